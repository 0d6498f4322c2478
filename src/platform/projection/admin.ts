import { Queue, QueueEvents, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { DomainError, ErrorCode, errorMessage, isTransient, UnavailableError } from "../errors";
import { bullPrefix } from "../bus/connections";
import type { ProjectionStatusView } from "./status";
import type { Logger } from "../observability/logger";

/**
 * Operator commands for projections travel to a projector process through a
 * BullMQ queue: the API reads only Redis, while a rebuild reads the log and a
 * retried event runs the projection's code. The caller waits for the answer
 * up to a bound.
 */
export const PROJECTOR_ADMIN_QUEUE = "projector-admin";

export type AdminRequest =
  | { op: "rebuild"; projection: string; by: string }
  | { op: "retry"; projection: string; eventId: string; by: string }
  | { op: "skip"; projection: string; eventId: string; by: string };

export type AdminResult =
  | { op: "rebuild"; projection: string; generation: number; fromGeneration: number }
  | { op: "retry"; projection: string; eventId: string; resolved: boolean; error: string | null }
  | { op: "skip"; projection: string; eventId: string; resolved: true; error: null };

/** What the API offers resolvers: status from Redis, commands to a projector. */
export interface ProjectionControl {
  readonly names: readonly string[];
  status(name: string): Promise<ProjectionStatusView>;
  send(request: AdminRequest): Promise<AdminResult>;
}

type AdminReply = { ok: true; result: AdminResult } | { ok: false; error: { code: string; message: string; details: Record<string, unknown> } };

export class ProjectorAdminClient {
  private readonly queue: Queue<AdminRequest, AdminReply>;
  private events: Promise<QueueEvents> | null = null;

  constructor(
    connection: Redis,
    /** Dedicated: QueueEvents blocks on it. */
    private readonly eventsConnection: Redis,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.queue = new Queue(PROJECTOR_ADMIN_QUEUE, { connection, prefix: bullPrefix(prefix) });
  }

  async send(request: AdminRequest): Promise<AdminResult> {
    const events = await this.queueEvents();
    let job;
    try {
      job = await this.queue.add(request.op, request, { attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } });
    } catch (error) {
      throw new UnavailableError("the projector admin queue (Redis)", error);
    }
    let reply: AdminReply;
    try {
      reply = (await job.waitUntilFinished(events, this.timeoutMs)) as AdminReply;
    } catch (error) {
      if (/timed out before finishing/.test(errorMessage(error))) {
        await job.remove().catch(() => undefined); // not taken yet: nobody will run it late; taken: it finishes
        throw new DomainError(ErrorCode.COMMAND_TIMEOUT, `No projector answered within ${this.timeoutMs} ms; is a projector running?`, {
          service: "projector",
          timeoutMs: this.timeoutMs,
        });
      }
      throw new UnavailableError("the projector", error);
    }
    if (!reply.ok) throw new DomainError(reply.error.code, reply.error.message, reply.error.details);
    return reply.result;
  }

  async close(): Promise<void> {
    await (await this.events?.catch(() => null))?.close();
    await this.queue.close();
  }

  /** Opened from the stream's current end, so a job finishing before the first XREAD is still heard (see QueueCommandBus). */
  private async queueEvents(): Promise<QueueEvents> {
    this.events ??= (async () => {
      const prefix = bullPrefix(this.prefix);
      const [last] = await this.eventsConnection.xrevrange(`${prefix}:${PROJECTOR_ADMIN_QUEUE}:events`, "+", "-", "COUNT", 1);
      const events = new QueueEvents(PROJECTOR_ADMIN_QUEUE, { connection: this.eventsConnection, prefix, lastEventId: last?.[0] ?? "0-0" });
      await events.waitUntilReady();
      return events;
    })();
    this.events.catch(() => (this.events = null));
    return this.events;
  }
}

/** The projector's end: runs each request; refusals are answers, other failures fail the job. */
export function startAdminWorker(
  connection: Redis,
  prefix: string,
  handle: (request: AdminRequest) => Promise<AdminResult>,
  log: Logger,
): Worker<AdminRequest, AdminReply> {
  const worker = new Worker<AdminRequest, AdminReply>(
    PROJECTOR_ADMIN_QUEUE,
    async (job) => {
      try {
        return { ok: true, result: await handle(job.data) };
      } catch (error) {
        if (error instanceof DomainError && !isTransient(error)) {
          return { ok: false, error: { code: error.code, message: error.message, details: { ...error.details } } };
        }
        throw error;
      }
    },
    { connection, prefix: bullPrefix(prefix), concurrency: 4 },
  );
  worker.on("failed", (job, error) => log.warn(`projector admin ${job?.data.op ?? "?"} ${job?.data.projection ?? ""} failed: ${errorMessage(error)}`));
  worker.on("error", (error) => log.warn(`projector admin worker: ${errorMessage(error)}`));
  return worker;
}
