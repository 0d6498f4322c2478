import type { RedisClient } from "../core/redis";
import { onMessage, onSubscriberChange, subscribe } from "../core/redisPubSub";
import { type GenerationKeys, parseGeneration, type ReadModelKeys } from "./keys";

export interface ActiveGenerationsOptions {
  /**
   * A cached pointer older than this is read again (default 1000 ms). It
   * bounds staleness should a switch's message be lost while the subscriber
   * still looks connected (a half-open TCP connection); one pointer read per
   * projection per interval costs nothing measurable.
   */
  maxAgeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ActiveGeneration {
  generation: number;
  keys: GenerationKeys;
  /** True when it came from the process cache, which may lag a switch: see ReadModelStore.fromActive. */
  cached: boolean;
}

interface Entry {
  generation: number;
  keys: GenerationKeys;
  at: number;
}

export const defaultPointerMaxAgeMs = 1000;

const FIRST_SUBSCRIBE_WAIT_MS = 1000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The `active` pointer of each projection, cached in process so that a query
 * costs one Redis round trip instead of two (decision 0018).
 *
 * - Invalidated by the checkpoint channel: a rebuild's switch publishes
 *   `{name} {newGen} {position}` in the same MULTI that moves the pointer, and
 *   a message naming another generation than the cached one drops the entry.
 * - Nothing is cached unless a subscriber is listening to the projection's
 *   channel: from its connection's close until its SUBSCRIBE is confirmed
 *   again, every read goes to Redis, because messages published meanwhile are lost.
 * - An entry lives at most `maxAgeMs`.
 * - A pointer read that started before an invalidation is not stored (epoch),
 *   so a late reply cannot put an old generation back.
 * The residual window (a switch whose message is still in flight) is closed by
 * the store: a read of a cached generation that finds nothing re-reads the pointer.
 */
export class ActiveGenerations {
  private readonly entries = new Map<string, Entry>();
  /** Per projection, bumped by every invalidation. */
  private readonly epochs = new Map<string, number>();
  /** Bumped when everything is invalidated. */
  private epoch = 0;
  private subscriber: RedisClient | null = null;
  /** Checkpoint channel -> projection, for every projection read so far. */
  private readonly channels = new Map<string, string>();
  /** Projections whose channel is subscribed, confirmed since the subscriber last dropped. */
  private readonly listening = new Set<string>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly reader: RedisClient,
    private readonly keys: ReadModelKeys,
    options: ActiveGenerationsOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? defaultPointerMaxAgeMs;
    this.now = options.now ?? Date.now;
  }

  /**
   * Starts caching, invalidated through `subscriber` (a connection in
   * subscriber mode, may be shared). Each projection has its own checkpoint
   * channel (under its hash tag): it is subscribed when the projection is
   * first read, and cached from the read after SUBSCRIBE was confirmed.
   */
  async listen(subscriber: RedisClient): Promise<void> {
    this.subscriber = subscriber;
    onMessage(subscriber, (from, message) => {
      if (this.channels.has(from)) this.onMessage(message);
    });
    // ioredis resubscribes by itself on reconnect; ours is confirmed before caching resumes (Redis answers in order).
    onSubscriberChange(subscriber, {
      lost: () => this.deafen(),
      back: () => [...this.channels.values()].forEach((projection) => void this.subscribe(projection).catch(() => undefined)),
    });
  }

  async current(projection: string): Promise<ActiveGeneration> {
    return this.cached(projection) ?? this.refresh(projection);
  }

  /** The cached pointer if there is a fresh one; synchronous, so the hot path awaits nothing for it. */
  cached(projection: string): ActiveGeneration | null {
    const entry = this.entries.get(projection);
    return entry && this.now() - entry.at < this.maxAgeMs ? { generation: entry.generation, keys: entry.keys, cached: true } : null;
  }

  /** Reads the pointer from Redis (and caches it when it is safe to). */
  async refresh(projection: string): Promise<ActiveGeneration> {
    const channel = this.keys.checkpointChannel(projection);
    if (this.subscriber && !this.channels.has(channel)) {
      this.channels.set(channel, projection);
      // Until confirmed, reads are not cached. A first read waits for it, briefly: not through an outage.
      const subscribed = this.subscribe(projection).catch(() => undefined);
      if (this.subscriber.status === "ready") await Promise.race([subscribed, delay(FIRST_SUBSCRIBE_WAIT_MS)]);
    }
    const epoch = this.epoch;
    const own = this.epochs.get(projection);
    const generation = parseGeneration(await this.reader.get(this.keys.activeGeneration(projection)));
    const keys = this.keys.generation(projection, generation);
    if (this.listening.has(projection) && epoch === this.epoch && own === this.epochs.get(projection)) {
      this.entries.set(projection, { generation, keys, at: this.now() });
    }
    return { generation, keys, cached: false };
  }

  private async subscribe(projection: string): Promise<void> {
    if (!this.subscriber) return;
    const epoch = this.epoch;
    await subscribe(this.subscriber, this.keys.checkpointChannel(projection));
    if (epoch !== this.epoch) return; // dropped again meanwhile; the next reconnect retries
    this.invalidate(projection); // switches before now went unheard
    this.listening.add(projection);
  }

  private deafen(): void {
    this.listening.clear();
    this.epoch++;
    this.entries.clear();
  }

  private invalidate(projection: string): void {
    this.epochs.set(projection, (this.epochs.get(projection) ?? 0) + 1);
    this.entries.delete(projection);
  }

  /**
   * Live batches publish with the active generation too: a message naming the
   * cached generation changes nothing. Any other (or one arriving while a
   * pointer read is in flight, with nothing cached yet) invalidates.
   */
  private onMessage(message: string): void {
    const [projection, generation] = message.split(" ", 2);
    if (projection === undefined) return;
    const entry = this.entries.get(projection);
    if (entry !== undefined && String(entry.generation) === generation) return;
    this.invalidate(projection);
  }
}
