import { compareLogPositions, type LogPosition, parseLogPosition } from "../eventstore/logPosition";

interface Positioned {
  projection?: string;
  id?: string;
  position?: string;
}

/** Documents remembered per subscription; a feed of everything forgets the least recently changed. */
const MAX_TRACKED = 50_000;

/**
 * Passes each document's changes on in commit order and at most once. A
 * projector that re-projects the log (after Redis lost its data, or a
 * retried batch) publishes changes a subscriber has already seen; they are
 * older than what it holds, so they are dropped here rather than shown as
 * if the entity had gone back in time.
 *
 * A hand-written iterator rather than an async generator: `return()` must
 * reach the source at once when a client unsubscribes, even while waiting.
 */
export function inCommitOrder<T>(source: AsyncIterable<T>): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const latest = new Map<string, LogPosition>();
  const isNew = (value: T): boolean => {
    const { projection, id, position } = (value ?? {}) as Positioned;
    const at = typeof position === "string" ? parseLogPosition(position) : null;
    if (!at || id === undefined) return true; // not a change notification: nothing to order by
    const key = `${projection ?? ""}\u0000${id}`;
    const seen = latest.get(key);
    if (seen && compareLogPositions(at, seen) <= 0) return false;
    latest.delete(key); // re-inserted last, so the map stays in least-recently-changed order
    latest.set(key, at);
    if (latest.size > MAX_TRACKED) latest.delete(latest.keys().next().value!);
    return true;
  };
  const ordered: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const result = await iterator.next();
        if (result.done || isNew(result.value)) return result;
      }
    },
    return: (value?: unknown) => iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
    throw: (error?: unknown) => iterator.throw?.(error) ?? Promise.reject(error),
    [Symbol.asyncIterator]: () => ordered,
  };
  return ordered;
}
