import type { Redis } from "ioredis";
import { type DomainError, errorMessage, ResumeWindowExceededError, UnavailableError } from "../core/errors";
import { formatLogPosition, LOG_START, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { FeedKeys } from "./topics";
import type { ChangeNotification } from "./topics";
import type { Logger } from "../observability/logger";
import { isAfter, newestLogged, oldestResumable, parseChange, readBatches } from "./changeLog";

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
  /** Dedicated to SUBSCRIBE (shared with the checkpoint waiter, which listens to its own channel). */
  subscriber: Redis;
  /** Reads the change logs. */
  reader: Redis;
  keys: FeedKeys;
  log: Logger;
  /** Batches read per XRANGE, and the queue length at which a replay waits for its client. */
  pageSize?: number;
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

  constructor(private readonly options: ChangeFeedsOptions) {
    const { subscriber } = options;
    subscriber.on("message", (channel: string, message: string) => {
      const feeds = this.byChannel.get(channel);
      if (!feeds) return;
      // Parsed once for every feed of the channel: they then share one notification object, so that
      // the api can also execute a subscription's selection once per event (graphql/sharedExecution.ts).
      const change = parsedChange(message);
      if (change) feeds.forEach((feed) => feed.receive(change));
    });
    // Messages published from here until the reconnect are lost: every feed holds, then replays them.
    subscriber.on("close", () => this.feeds().forEach((feed) => feed.hold()));
    subscriber.on("ready", () => this.feeds().forEach((feed) => feed.catchUp()));
  }

  /**
   * Opens a feed. Refuses with RESUME_WINDOW_EXCEEDED, before anything is
   * delivered, when changes after `after` are no longer all in the change log.
   */
  async open(request: FeedRequest): Promise<AsyncIterableIterator<FeedItem>> {
    const { subscriber, reader, keys } = this.options;
    const channel = keys.topic(request.topic);
    const logKey = keys.changeLog(request.projection);
    const feed = new Feed(channel, logKey, this.options, () => this.remove(channel, feed));
    let feeds = this.byChannel.get(channel);
    if (!feeds) this.byChannel.set(channel, (feeds = new Set()));
    feeds.add(feed);
    try {
      if (request.after) {
        const oldest = await readOrUnavailable(() => oldestResumable(reader, logKey));
        if (oldest && isAfter(oldest, request.after)) throw windowExceeded(request.after, oldest);
      }
      // Without `after`, the feed starts where the log ends now, read before SUBSCRIBE: a batch
      // published in between is then replayed, never lost.
      const start = request.after ?? (await readOrUnavailable(() => newestLogged(reader, logKey))) ?? LOG_START;
      await subscriber.subscribe(channel);
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

  private remove(channel: string, feed: Feed): void {
    const feeds = this.byChannel.get(channel);
    if (!feeds?.delete(feed) || feeds.size > 0) return;
    this.byChannel.delete(channel);
    void this.options.subscriber.unsubscribe(channel).catch(() => undefined);
  }
}

class Feed {
  private covered: LogPosition = LOG_START;
  /** Live changes waiting for a replay to end; null while live. */
  private held: ParsedChange[] | null = [];
  /** Bumped when the subscriber disconnects: a replay that started before must not go live. */
  private epoch = 0;
  private running = false;
  private rerun = false;
  private started = false;
  private readAttempts = 0;
  private readonly queue: FeedItem[] = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private roomWaiter: (() => void) | null = null;
  private readonly pageSize: number;

  constructor(
    private readonly channel: string,
    private readonly logKey: string,
    private readonly options: ChangeFeedsOptions,
    private readonly onClose: () => void,
  ) {
    this.pageSize = options.pageSize ?? 200;
  }

  readonly iterator: AsyncIterableIterator<FeedItem> = {
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
  }

  receive(change: ParsedChange): void {
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
          await this.options.subscriber.subscribe(this.channel); // confirmed before reading: later batches arrive live
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
    for (;;) {
      const { reader } = this.options;
      const from = this.covered;
      const batches = await readBatches(reader, this.logKey, from, this.pageSize);
      // The entries chain: one starting after `covered` means those in between were trimmed.
      if (batches[0] && isAfter(batches[0].from, from)) {
        throw windowExceeded(from, (await oldestResumable(reader, this.logKey)) ?? batches[0].from);
      }
      for (const batch of batches) {
        for (const change of batch.changes) {
          const parsed = change.channel === this.channel ? parsedChange(change.message) : null;
          if (parsed) this.accept(parsed);
        }
        if (isAfter(batch.to, this.covered)) this.covered = batch.to;
      }
      if (batches.length < this.pageSize || this.ended) return;
      await this.room();
    }
  }

  private goLive(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const change of held) this.accept(change);
  }

  /** Passes a change on if it comes after everything passed on so far. */
  private accept({ change, position }: ParsedChange): void {
    if (this.ended || !isAfter(position, this.covered)) return;
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

  private next(): Promise<IteratorResult<FeedItem>> {
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

/** A notification with its position parsed, or null for a message that is not one. */
interface ParsedChange {
  change: ChangeNotification;
  position: LogPosition;
}

function parsedChange(message: string): ParsedChange | null {
  const change = parseChange(message);
  const position = change && parseLogPosition(change.position);
  return change && position ? { change, position } : null;
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
