import { Queue, QueueEvents } from "bullmq";
import { DomainError, errorMessage, UnavailableError } from "../core/errors";
import { queueTelemetry } from "../observability/queueTelemetry";
import { bullPrefix, type RedisClient } from "../core/redis";
import type { Reply } from "./reply";
import { newReplyChannel, type ReplyMessage, ReplySubscriber } from "./replyChannel";
import { type Exchange, RequestReply } from "./requestReply";

export interface BullLaneOptions<T> {
  /** The queue's name. */
  name: string;
  connection: RedisClient;
  prefix: string;
  /**
   * A connection of its own for hearing replies: subscribed to the lane's
   * reply channel when `replyChannel` is set, otherwise for QueueEvents,
   * which blocks on it.
   */
  eventsConnection: () => RedisClient;
  /**
   * Replies come on a channel of this process's own (see replyChannel.ts),
   * which the worker publishes to, instead of through QueueEvents; the stored
   * job is read every `pollMs` as well, in case a message was lost.
   */
  replyChannel?: { pollMs: number };
  /** What the request's handler is called in errors ("the inventory service"). */
  dependency: string;
  parse(value: unknown): Reply<T>;
}

/**
 * The BullMQ transport of a request/reply lane: a request is a job under the
 * request's id, its reply the job's return value, heard through QueueEvents.
 * The waiting, the timeout and the envelope are the core's (requestReply.ts).
 */
export class BullLane<Data, T> {
  readonly queue: Queue<Data, Reply<T>>;
  private readonly core = new RequestReply<T>();
  private events: Promise<QueueEvents> | null = null;
  private subscriber: ReplySubscriber | null = null;
  /** Where workers publish this lane's replies (see replyChannel.ts); null when it hears them through QueueEvents. */
  readonly replyTo: string | null;

  constructor(private readonly options: BullLaneOptions<T>) {
    const prefix = bullPrefix(options.prefix, options.name);
    this.queue = new Queue<Data, Reply<T>>(options.name, { connection: options.connection, prefix, ...queueTelemetry() });
    this.queue.on("error", () => undefined); // outages surface on send
    this.replyTo = options.replyChannel ? newReplyChannel(prefix) : null;
  }

  /** Waits for the reply of job `jobId`, which `exchange.put` queues (after `listen`, so that no reply goes unheard). */
  async request(jobId: string, exchange: Omit<Exchange<T>, "read">): Promise<Reply<T>> {
    try {
      const pollMs = this.options.replyChannel?.pollMs ?? exchange.pollMs;
      return await this.core.request(jobId, { ...exchange, ...(pollMs === undefined ? {} : { pollMs }), read: () => this.read(jobId) });
    } catch (error) {
      if (error instanceof DomainError) throw error;
      throw new UnavailableError(this.options.dependency, errorMessage(error));
    }
  }

  /**
   * Opens the lane's QueueEvents once, reading from where the event stream
   * stood at that moment, not from "$": its first XREAD is sent only after a
   * round trip or two, and a job finishing in between (the first request a
   * process sends) would otherwise go unheard until the caller's timeout.
   */
  listen(): Promise<unknown> {
    if (this.replyTo) return this.subscribed(this.replyTo);
    this.events ??= (async () => {
      const prefix = bullPrefix(this.options.prefix, this.options.name);
      const [last] = await this.options.connection.xrevrange(`${prefix}:${this.options.name}:events`, "+", "-", "COUNT", 1);
      const events = new QueueEvents(this.options.name, { connection: this.options.eventsConnection(), prefix, lastEventId: last?.[0] ?? "0-0" });
      events.on("error", () => undefined); // reconnects by itself
      events.on("completed", ({ jobId, returnvalue }) => this.core.hear(jobId, this.parsed(returnvalue)));
      events.on("failed", ({ jobId, failedReason }) => this.core.hear(jobId, { failure: this.failure(failedReason) }));
      events.on("progress", ({ jobId, data }) => this.core.hear(jobId, { notice: data }));
      await events.waitUntilReady();
      return events;
    })();
    this.events.catch(() => (this.events = null)); // the next request tries again
    return this.events;
  }

  private subscribed(channel: string): Promise<void> {
    this.subscriber ??= new ReplySubscriber(channel, this.options.eventsConnection(), (message) => this.heard(message), () =>
      this.core.hear(null, { changed: true }),
    );
    return this.subscriber.start();
  }

  private heard(message: ReplyMessage): void {
    if ("reply" in message) this.core.hear(message.id, this.parsed(message.reply));
    else if ("notice" in message) this.core.hear(message.id, { notice: message.notice });
    else this.core.hear(message.id, { failure: this.failure(message.failed) });
  }

  async close(): Promise<void> {
    await this.subscriber?.close();
    await (await this.events?.catch(() => null))?.close();
    await this.queue.close();
  }

  /** The reply of a finished job, or null. A thrown failure: the job failed for good. */
  async read(jobId: string): Promise<Reply<T> | null> {
    const state = await this.queue.getJobState(jobId);
    if (state !== "completed" && state !== "failed") return null;
    // Read after its state: a job read while it still ran has no return value, even once its state says completed.
    const job = await this.queue.getJob(jobId);
    if (!job) return null;
    if (state === "failed") throw this.failure(job.failedReason);
    return this.options.parse(job.returnvalue);
  }

  private parsed(value: unknown): { reply: Reply<T> } | { failure: DomainError } {
    try {
      return { reply: this.options.parse(value) };
    } catch (error) {
      return { failure: error instanceof DomainError ? error : this.failure(errorMessage(error)) };
    }
  }

  /** A job that failed for good (attempts used up): its cause is for the lane's log, the caller learns only that it failed. */
  private failure(reason: string): DomainError {
    return new UnavailableError(this.options.dependency, reason);
  }
}
