import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import { z } from "zod";
import { errorMessage, UnavailableError } from "../core/errors";
import { BullLane } from "../bus/bullLane";
import { bullPrefix, type RedisClient } from "../core/redis";
import { answer, parseEnvelope, type Reply, replyParser, unwrap } from "../bus/reply";
import { RequestTimeoutError } from "../bus/requestReply";
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

const projection = z.string().min(1).max(200);
const by = z.string().min(1).max(1000);
const eventId = z.string().min(1).max(200);
const adminRequest: z.ZodType<AdminRequest> = z.discriminatedUnion("op", [
  z.object({ op: z.literal("rebuild"), projection, by }),
  z.object({ op: z.literal("retry"), projection, eventId, by }),
  z.object({ op: z.literal("skip"), projection, eventId, by }),
]);
const adminResult: z.ZodType<AdminResult> = z.discriminatedUnion("op", [
  z.object({ op: z.literal("rebuild"), projection: z.string(), generation: z.number(), fromGeneration: z.number() }),
  z.object({ op: z.literal("retry"), projection: z.string(), eventId: z.string(), resolved: z.boolean(), error: z.string().nullable() }),
  z.object({ op: z.literal("skip"), projection: z.string(), eventId: z.string(), resolved: z.literal(true), error: z.null() }),
]);
const parseAdminReply = replyParser(adminResult);

/** The API's end: a thin lane over BullMQ, the waiting and the envelope being the request/reply core's. */
export class ProjectorAdminClient {
  private readonly lane: BullLane<AdminRequest, AdminResult>;

  constructor(
    connection: RedisClient,
    /** Dedicated: QueueEvents blocks on it. */
    eventsConnection: RedisClient,
    prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.lane = new BullLane({
      name: PROJECTOR_ADMIN_QUEUE,
      connection,
      prefix,
      eventsConnection: () => eventsConnection,
      dependency: "the projector",
      parse: parseAdminReply,
    });
  }

  async send(request: AdminRequest): Promise<AdminResult> {
    const jobId = `admin-${randomUUID()}`;
    const put = async () => {
      try {
        await this.lane.listen();
        await this.lane.queue.add(request.op, request, { jobId, attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } });
        return null; // every request is new: no resends to answer
      } catch (error) {
        throw new UnavailableError("the projector admin queue (Redis)", error);
      }
    };
    const { timeoutMs } = this;
    try {
      return unwrap(await this.lane.request(jobId, { put, timeoutMs, timedOut: () => new RequestTimeoutError(
        `No projector answered within ${timeoutMs} ms; is a projector running?`, { service: "projector", timeoutMs }) }));
    } catch (error) {
      // Not taken yet: nobody will run it late. Taken: it finishes.
      if (error instanceof RequestTimeoutError) await this.lane.queue.remove(jobId).catch(() => undefined);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.lane.close();
  }
}

/** The projector's end: parses and runs each request; refusals are answers, other failures fail the job. */
export function startAdminWorker(
  connection: RedisClient,
  prefix: string,
  handle: (request: AdminRequest) => Promise<AdminResult>,
  log: Logger,
): Worker<AdminRequest, Reply<AdminResult>> {
  const worker = new Worker<AdminRequest, Reply<AdminResult>>(
    PROJECTOR_ADMIN_QUEUE,
    (job) => answer(() => handle(parseEnvelope(adminRequest, job.data, "request"))),
    { connection, prefix: bullPrefix(prefix, PROJECTOR_ADMIN_QUEUE), concurrency: 4 },
  );
  worker.on("failed", (job, error) => log.warn(`projector admin ${job?.data.op ?? "?"} ${job?.data.projection ?? ""} failed: ${errorMessage(error)}`));
  worker.on("error", (error) => log.warn(`projector admin worker: ${errorMessage(error)}`));
  return worker;
}
