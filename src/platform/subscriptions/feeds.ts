import type { RedisClient } from "../core/redis";
import { onMessage, onSubscriberChange, subscribe, unsubscribe } from "../core/redisPubSub";
import { type DomainError, errorMessage, ResumeWindowExceededError, UnavailableError } from "../core/errors";
import { formatLogPosition, LOG_START, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { FeedKeys } from "./topics";
import type { ChangeNotification } from "./topics";
import type { Logger } from "../observability/logger";
import { isAfter, newestLogged, oldestResumable, parseChange, readBatches } from "./changeLog";
import { mergeSegmentFeeds, SegmentProgress } from "./segmentFeeds";

export interface FeedRequest {
  /** The projection that publishes on `topic`: its change log is what the feed replays. */
  projection: string;
  /** Topic name without the prefix, e.g. `order:o-1`. */
  topic: string;
  /** Deliver every change after this position first; null: only changes from now on. */
  after: LogPosition | null;
}

/** Ends a feed that cannot go on without a gap; the resolver turns it into the error (see `changeOf`). */
export class FeedFailure {
  constructor(readonly error: DomainError) {}
}

export type FeedItem = ChangeNotification | FeedFailure;

export interface ChangeFeedsOptions {
  /** Dedicated to SUBSCRIBE (shared with the checkpoint waiter, which listens to its own channels); on a cluster, SSUBSCRIBE. */
  subscriber: RedisClient;
  /** Reads the change logs. */
  reader: RedisClient;
  keys: FeedKeys;
  log: Logger;
  /** Batches read per XRANGE, and the queue length at which a replay waits for its client. */
  pageSize?: number;
  /**
   * The segments a projection publishes from, each with its own change log
   * (decision 0027), and the channel where every segment announces the
   * checkpoint it committed; by default every projection is one segment.
   */
  segments?: {
    of(projection: string): readonly string[];
    /** The channel where a segment announces each checkpoint it commits. */
    checkpointChannel(segment: string): string;
    /** Where a segment has committed up to: its change log then holds every change up to there. */
    checkpoint(segment: string): Promise<LogPosition>;
  };
}

const READ_ATTEMPTS = 20;
const READ_RETRY_MS = 500;

/**
 * Subscriptions as feeds that resume: each one keeps `covered`, the log
 * position up to which it has passed on every change of its topic, and only
 * ever passes on a change after it. It is filled from two sources:
 *
 * - live, from Redis pub/sub;
 * - replay, from the projection's change log (XRANGE after `covered`).
 *
 * The seam: live messages are held from the moment the feed is created (or
 * the subscriber connection drops) until a replay ends. The replay starts only
 * once SUBSCRIBE is confirmed, and the projector publishes and logs a batch in
 * one MULTI, so every batch is in the replay's read or arrives live after it.
 * Held messages then go through the same `covered` filter: what the replay
 * already passed on is dropped, the rest follows in commit order. Nothing is
 * skipped, nothing repeats, and a projector re-publishing the log (after Redis
 * lost its data) is filtered out the same way.
 */
export class ChangeFeeds {
  private readonly byChannel = new Map<string, Set<Feed>>();
  /** Feeds of one segment of a projection in segments, by the segment's checkpoint channel: they hear its checkpoints. */
  private readonly bySegment = new Map<string, Set<Feed>>();

  constructor(private readonly options: ChangeFeedsOptions) {
    const { subscriber } = options;
    onMessage(subscriber, (channel, message) => {
      const ofSegment = this.bySegment.get(channel);
      if (ofSegment) this.onCheckpoint(ofSegment, message);
      else {
        const feeds = this.byChannel.get(channel);
        // Parsed once for every feed of the channel: they share one notification object, so that the api
        // executes a subscription's selection once per event for all who would get the same result
        // (graphql/sharedExecution.ts).
        const change = feeds?.size ? parseChange(message) : null;
        if (change) feeds?.forEach((feed) => feed.receive(change));
      }
    });
    // Messages published from here until the reconnect are lost: every feed holds, then replays them.
    onSubscriberChange(subscriber, {
      lost: () => this.feeds().forEach((feed) => feed.hold()),
      back: () => this.feeds().forEach((feed) => feed.catchUp()),
    });
  }

  /**
   * Opens a feed. Refuses with RESUME_WINDOW_EXCEEDED, before anything is
   * delivered, when changes after `after` are no longer all in the change log.
   */
  async open(request: FeedRequest): Promise<AsyncIterableIterator<FeedItem>> {
    const layout = this.options.segments;
    const segments = layout?.of(request.projection) ?? [request.projection];
    if (!layout || segments.length === 1) return withoutProgress(await this.openSegment(request, null));
    // One feed per segment, each resuming from its own change log and passing on only its own segment's changes.
    const feeds: Array<AsyncIterableIterator<FeedItem | SegmentProgress>> = [];
    try {
      for (const segment of segments) {
        feeds.push(await this.openSegment({ ...request, projection: segment }, { name: segment, checkpointChannel: layout.checkpointChannel(segment), checkpoint: () => layout.checkpoint(segment) }));
      }
    } catch (error) {
      await Promise.all(feeds.map((feed) => feed.return?.()));
      throw error;
    }
    return mergeSegmentFeeds(feeds, (item): item is FeedFailure => item instanceof FeedFailure);
  }

  private async openSegment(
    request: FeedRequest,
    segment: { name: string; checkpointChannel: string; checkpoint: () => Promise<LogPosition> } | null,
  ): Promise<AsyncIterableIterator<FeedItem | SegmentProgress>> {
    const { subscriber, reader, keys } = this.options;
    const channel = keys.topic(request.projection, request.topic);
    const logKey = keys.changeLog(request.projection);
    const channels = segment ? [channel, segment.checkpointChannel] : [channel];
    const feed = new Feed(channels, logKey, segment && { name: segment.name, checkpoint: segment.checkpoint }, this.options, () => this.remove(channel, feed));
    let feeds = this.byChannel.get(channel);
    if (!feeds) this.byChannel.set(channel, (feeds = new Set()));
    feeds.add(feed);
    if (segment) {
      let ofSegment = this.bySegment.get(segment.checkpointChannel);
      if (!ofSegment) this.bySegment.set(segment.checkpointChannel, (ofSegment = new Set()));
      ofSegment.add(feed);
    }
    try {
      if (request.after) {
        const oldest = await readOrUnavailable(() => oldestResumable(reader, logKey));
        if (oldest && isAfter(oldest, request.after)) throw windowExceeded(request.after, oldest);
      }
      // Without `after`, the feed starts where the log ends now, read before SUBSCRIBE: a batch
      // published in between is then replayed, never lost.
      const start = request.after ?? (await readOrUnavailable(() => newestLogged(reader, logKey))) ?? LOG_START;
      await subscribe(subscriber, ...channels);
      feed.startAt(start);
    } catch (error) {
      feed.close();
      throw error;
    }
    feed.catchUp();
    return feed.iterator;
  }

  private feeds(): Feed[] {
    return [...this.byChannel.values()].flatMap((set) => [...set]);
  }

  /** `{segment} {generation} {position}`: the segment's feeds have heard every change up to it (published after them, in the same commit). */
  private onCheckpoint(feeds: ReadonlySet<Feed>, message: string): void {
    const token = message.split(" ")[2];
    const position = token ? parseLogPosition(token) : null;
    if (position) feeds.forEach((feed) => feed.checkpoint(position));
  }

  private remove(channel: string, feed: Feed): void {
    const checkpoints = feed.checkpointChannel;
    if (checkpoints !== null) {
      const ofSegment = this.bySegment.get(checkpoints);
      if (ofSegment?.delete(feed) && ofSegment.size === 0) this.bySegment.delete(checkpoints);
    }
    // The checkpoint channel stays subscribed: the checkpoint waiter listens to it on the same connection.
    const feeds = this.byChannel.get(channel);
    if (!feeds?.delete(feed) || feeds.size > 0) return;
    this.byChannel.delete(channel);
    void unsubscribe(this.options.subscriber, channel).catch(() => undefined);
  }
}

class Feed {
  private covered: LogPosition = LOG_START;
  /** Live messages (and, for a segment's feed, checkpoints) waiting for a replay to end; null while live. */
  private held: Array<ChangeNotification | LogPosition> | null = [];
  /** Bumped when the subscriber disconnects: a replay that started before must not go live. */
  private epoch = 0;
  private running = false;
  private rerun = false;
  private started = false;
  private readAttempts = 0;
  private readonly queue: Array<FeedItem | SegmentProgress> = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private roomWaiter: (() => void) | null = null;
  private readonly pageSize: number;

  private readonly channel: string;

  constructor(
    /** The topic's channel, and for a segment's feed the checkpoint channel. */
    private readonly channels: readonly string[],
    private readonly logKey: string,
    /**
     * A segment's feed: the topic's channel carries every segment's changes, it passes on only its
     * own, and says how far it has passed (SegmentProgress) for the merge to order segments.
     */
    private readonly ofSegment: { name: string; checkpoint: () => Promise<LogPosition> } | null,
    private readonly options: ChangeFeedsOptions,
    private readonly onClose: () => void,
  ) {
    this.pageSize = options.pageSize ?? 200;
    this.channel = channels[0]!;
    this.segment = ofSegment?.name ?? null;
    this.checkpointChannel = channels[1] ?? null;
  }

  readonly segment: string | null;
  readonly checkpointChannel: string | null;

  readonly iterator: AsyncIterableIterator<FeedItem | SegmentProgress> = {
    next: () => this.next(),
    // Must end at once, even while a client waits for the next change (graphql-ws calls it on unsubscribe).
    return: () => {
      this.close();
      return Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      this.close();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
    [Symbol.asyncIterator]: () => this.iterator,
  };

  startAt(position: LogPosition): void {
    this.covered = position;
    this.started = true;
    if (this.segment !== null) this.queue.push(new SegmentProgress(position));
  }

  /** Its segment committed up to `position`: every change of the segment up to there has been received. */
  checkpoint(position: LogPosition): void {
    if (this.ended || !this.started) return;
    if (this.held) this.held.push(position);
    else this.advance(position);
  }

  private advance(position: LogPosition): void {
    if (!isAfter(position, this.covered)) return;
    this.covered = position;
    if (this.segment === null) return;
    this.queue.push(new SegmentProgress(position));
    this.wakeUp();
  }

  receive(change: ChangeNotification): void {
    if (this.ended) return;
    if (this.held) this.held.push(change);
    else this.accept(change);
  }

  hold(): void {
    this.epoch += 1;
    this.held = []; // what it held is in the change log too: the next replay reads it from `covered`
  }

  /** Replays from `covered`, then goes live; runs again if the subscriber reconnected meanwhile. */
  catchUp(): void {
    if (!this.started || this.ended) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    void (async () => {
      do {
        this.rerun = false;
        const epoch = this.epoch;
        try {
          await subscribe(this.options.subscriber, ...this.channels); // confirmed before reading: later batches arrive live
          await this.replay();
          this.readAttempts = 0;
          if (epoch === this.epoch && !this.rerun) this.goLive();
        } catch (error) {
          if (error instanceof ResumeWindowExceededError) this.fail(error);
          else if (epoch === this.epoch && ++this.readAttempts < READ_ATTEMPTS) {
            await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
            this.rerun = true;
          } else if (epoch === this.epoch) {
            this.options.log.warn(`subscriptions: ${this.channel} cannot replay its change log: ${errorMessage(error)}`);
            this.fail(new UnavailableError("Redis", error));
          } // else: disconnected meanwhile; the reconnect starts the next replay
        }
      } while (this.rerun && !this.ended);
      this.running = false;
    })();
  }

  close(): void {
    this.ended = true;
    this.queue.length = 0;
    this.onClose();
    this.wakeUp();
  }

  private async replay(): Promise<void> {
    // Read first: the change log then holds every change up to it, and batches without changes are not logged.
    const committed = this.ofSegment ? await this.ofSegment.checkpoint() : null;
    for (;;) {
      const { reader } = this.options;
      const from = this.covered;
      const batches = await readBatches(reader, this.logKey, from, this.pageSize);
      // The entries chain: one starting after `covered` means those in between were trimmed.
      if (batches[0] && isAfter(batches[0].from, from)) {
        throw windowExceeded(from, (await oldestResumable(reader, this.logKey)) ?? batches[0].from);
      }
      for (const batch of batches) {
        for (const logged of batch.changes) {
          const change = logged.channel === this.channel ? parseChange(logged.message) : null;
          if (change) this.accept(change);
        }
        this.advance(batch.to);
      }
      if (batches.length < this.pageSize || this.ended) {
        if (committed) this.advance(committed);
        return;
      }
      await this.room();
    }
  }

  private goLive(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const item of held) {
      if ("eventId" in item) this.accept(item);
      else this.advance(item);
    }
  }

  /** Passes a change on if it comes after everything passed on so far. */
  private accept(change: ChangeNotification): void {
    if (this.ended) return;
    if (this.segment !== null && change.projection !== this.segment) return;
    const position = parseLogPosition(change.position)!;
    if (!isAfter(position, this.covered)) return;
    this.covered = position;
    this.queue.push(change);
    this.wakeUp();
  }

  private fail(error: DomainError): void {
    if (this.ended) return;
    this.queue.push(new FeedFailure(error));
    this.ended = true;
    this.onClose();
    this.wakeUp();
  }

  private next(): Promise<IteratorResult<FeedItem | SegmentProgress>> {
    const value = this.queue.shift();
    if (value !== undefined) {
      if (this.queue.length < this.pageSize) this.roomWaiter?.();
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.wake = () => resolve(this.next());
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
    if (this.ended) this.roomWaiter?.();
  }

  /** A replay reads its next page once the client has taken most of the last one. */
  private room(): Promise<void> {
    if (this.queue.length < this.pageSize) return Promise.resolve();
    return new Promise((resolve) => {
      this.roomWaiter = () => {
        this.roomWaiter = null;
        resolve();
      };
    });
  }
}

/** A feed of a projection in one segment: it never says SegmentProgress, and callers never see it. */
function withoutProgress(feed: AsyncIterableIterator<FeedItem | SegmentProgress>): AsyncIterableIterator<FeedItem> {
  const plain: AsyncIterableIterator<FeedItem> = {
    async next() {
      for (;;) {
        const result = await feed.next();
        if (result.done) return { done: true, value: undefined };
        if (!(result.value instanceof SegmentProgress)) return { done: false, value: result.value };
      }
    },
    return: async () => {
      await feed.return?.();
      return { done: true, value: undefined };
    },
    throw: (error?: unknown) => feed.throw?.(error).then(() => ({ done: true as const, value: undefined })) ?? Promise.reject(error),
    [Symbol.asyncIterator]: () => plain,
  };
  return plain;
}

function windowExceeded(after: LogPosition, oldest: LogPosition): ResumeWindowExceededError {
  return new ResumeWindowExceededError(formatLogPosition(after), formatLogPosition(oldest));
}

/**
 * A read of the change log when a feed opens. A reply slower than the read
 * connection's timeout (REDIS_READ_TIMEOUT_MS) is a busy api or Redis, not an
 * outage: it is tried again, as a replay's reads are, rather than failing the
 * subscription for good (under load, some subscriptions never went live). A
 * connection error still fails at once, as UNAVAILABLE.
 */
async function readOrUnavailable<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!isTimeout(error) || attempt >= READ_ATTEMPTS) throw new UnavailableError("Redis", error);
    }
    await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
  }
}

/** ioredis's `commandTimeout` rejection: the command may still be answered, late. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === "Command timed out";
}
