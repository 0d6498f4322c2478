import { compareLogPositions, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { ChangeNotification } from "./topics";

/** A segment's feed has passed on every change of its segment up to `position`. */
export class SegmentProgress {
  constructor(readonly position: LogPosition) {}
}

/** What a segment's feed yields: changes, progress, and a failure that ends it. */
export type SegmentFeedItem<Failure> = ChangeNotification | SegmentProgress | Failure;

/**
 * The feeds of every segment of a projection as one feed in log order.
 *
 * A change is passed on only once every segment's feed has passed the
 * change's position (the least of their progress, the watermark): by then no
 * segment can still produce an earlier change. So changes of all segments
 * come out in commit order of the log, as from a projection in one segment,
 * and the last position a client saw is a resume point for every segment:
 * `after:` misses nothing and repeats nothing. A change waits for the slowest
 * segment's next checkpoint, which every segment publishes after each batch.
 * The first failure ends the whole feed.
 */
export function mergeSegmentFeeds<Failure extends object>(
  feeds: ReadonlyArray<AsyncIterableIterator<SegmentFeedItem<Failure>>>,
  isFailure: (item: SegmentFeedItem<Failure>) => item is Failure,
): AsyncIterableIterator<ChangeNotification | Failure> {
  const pending = new Map<number, Promise<{ i: number; result: IteratorResult<SegmentFeedItem<Failure>> }>>();
  const pull = (i: number) => pending.set(i, feeds[i]!.next().then((result) => ({ i, result })));
  feeds.forEach((_, i) => pull(i));
  const progress: Array<LogPosition | null> = feeds.map(() => null);
  /** Changes heard but not yet below the watermark, in log order (stable: a segment's changes keep theirs). */
  const waiting: Array<{ position: LogPosition; change: ChangeNotification }> = [];
  const ready: ChangeNotification[] = [];
  let ended = false;
  const end = () => {
    ended = true;
    ready.length = 0;
    for (const feed of feeds) void feed.return?.();
  };
  const advance = (i: number, position: LogPosition) => {
    const known = progress[i];
    if (!known || compareLogPositions(position, known) > 0) progress[i] = position;
  };
  const release = () => {
    let watermark: LogPosition | null = null;
    for (const p of progress) {
      if (!p) return;
      if (!watermark || compareLogPositions(p, watermark) < 0) watermark = p;
    }
    let n = 0;
    while (n < waiting.length && compareLogPositions(waiting[n]!.position, watermark!) <= 0) n++;
    ready.push(...waiting.splice(0, n).map((w) => w.change));
  };
  const merged: AsyncIterableIterator<ChangeNotification | Failure> = {
    async next() {
      for (;;) {
        const change = ready.shift();
        if (change) return { done: false, value: change };
        if (ended || pending.size === 0) return { done: true, value: undefined };
        const { i, result } = await Promise.race(pending.values());
        pending.delete(i);
        if (ended) continue;
        if (result.done) {
          end(); // a segment's feed ends only when closed or failed: the whole feed ends with it
          continue;
        }
        const item = result.value;
        if (isFailure(item)) {
          end();
          return { done: false, value: item };
        }
        pull(i);
        if (item instanceof SegmentProgress) advance(i, item.position);
        else {
          const position = parseLogPosition(item.position)!;
          advance(i, position);
          let at = waiting.length;
          while (at > 0 && compareLogPositions(waiting[at - 1]!.position, position) > 0) at--;
          waiting.splice(at, 0, { position, change: item });
        }
        release();
      }
    },
    return() {
      end();
      return Promise.resolve({ done: true, value: undefined });
    },
    throw(error?: unknown) {
      end();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
    [Symbol.asyncIterator]: () => merged,
  };
  return merged;
}
