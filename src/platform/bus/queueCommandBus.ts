import { createHash } from "node:crypto";
import { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { DomainError, ErrorCode, errorMessage, UnavailableError } from "../errors";
import type { CommandBus } from "./commandBus";
import { bullPrefix, createRedis } from "./connections";
import { type CommandJob, type CommandReply, fromReply } from "./wire";
import { queueTelemetry } from "../observability/queueTelemetry";

export const COMMAND_JOB = "command";

export function commandQueueName(service: string): string {
  return `commands.${service}`;
}

/**
 * BullMQ job id of a command: derived from its commandId, so a resent command
 * joins the job already queued instead of queueing a second one. (BullMQ ids
 * may not contain ':', which command ids may.)
 */
export function commandJobId(service: string, commandId: string): string {
  return `cmd-${createHash("sha256").update(`${service}\n${commandId}`).digest("hex").slice(0, 32)}`;
}

export interface QueueCommandBusOptions {
  /** How long a caller waits for the owning service's reply. */
  timeoutMs: number;
  /** Attempts for transient failures (connection loss, repeated write conflicts). */
  attempts: number;
}

/**
 * Commands cross the network through one BullMQ queue per service. The caller
 * waits for the reply up to a bound; past it, the command stays queued and
 * runs when the service is back: an accepted command is never dropped.
 */
export class QueueCommandBus implements CommandBus {
  private readonly queues = new Map<string, Queue<CommandJob, CommandReply>>();
  private readonly events = new Map<string, Promise<QueueEvents>>();
  private readonly eventConnections: Redis[] = [];

  constructor(
    private readonly connection: Redis,
    private readonly redisUrl: string,
    private readonly prefix: string,
    private readonly options: QueueCommandBusOptions,
  ) {}

  async send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome> {
    return fromReply(await this.sendRaw(service, command, context, this.options.timeoutMs));
  }

  /** Like `send`, with a wait bound of the caller's choosing; refusals come back as replies, not errors. */
  async sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number): Promise<CommandReply> {
    const queue = this.queue(service);
    const jobId = commandJobId(service, context.commandId);
    let job;
    try {
      job = await queue.getJob(jobId);
      const state = job ? await job.getState() : null;
      if (job && state === "completed") return asDuplicate(parseReply(job.returnvalue));
      if (job && state === "failed") await job.retry("failed");
      job ??= await queue.add(COMMAND_JOB, { command, context }, {
        jobId,
        attempts: this.options.attempts,
        backoff: { type: "exponential", delay: 100 },
        removeOnComplete: { age: 3600, count: 50_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    } catch (error) {
      throw new UnavailableError("the command queue (Redis)", error);
    }
    try {
      return parseReply(await job.waitUntilFinished(await this.queueEvents(service), timeoutMs));
    } catch (error) {
      const message = errorMessage(error);
      if (/timed out before finishing/.test(message)) {
        throw new DomainError(
          ErrorCode.COMMAND_TIMEOUT,
          `The ${service} service did not answer within ${timeoutMs} ms. The command stays queued and will run ` +
            `when the service is back; resend it with the same commandId (${context.commandId}) to get its result.`,
          { service, commandId: context.commandId, timeoutMs },
        );
      }
      throw new UnavailableError(`the ${service} service`, message);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.events.values()].map(async (e) => (await e.catch(() => null))?.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await Promise.all(this.eventConnections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private queue(service: string): Queue<CommandJob, CommandReply> {
    let queue = this.queues.get(service);
    if (!queue) {
      queue = new Queue<CommandJob, CommandReply>(commandQueueName(service), {
        connection: this.connection,
        prefix: bullPrefix(this.prefix),
        ...queueTelemetry(),
      });
      this.queues.set(service, queue);
    }
    return queue;
  }

  private async queueEvents(service: string): Promise<QueueEvents> {
    let events = this.events.get(service);
    if (!events) {
      events = this.openQueueEvents(service);
      this.events.set(service, events);
      events.catch(() => this.events.delete(service)); // the next send tries again
    }
    const ready = await events;
    await ready.waitUntilReady();
    return ready;
  }

  /**
   * QueueEvents reads the queue's event stream from where it stood when it was
   * opened, not from "$": its first XREAD is sent only after a round trip or
   * two, and a job finishing in between (the first command a process sends to
   * a service) would otherwise go unnoticed until the caller's timeout.
   */
  private async openQueueEvents(service: string): Promise<QueueEvents> {
    const name = commandQueueName(service);
    const prefix = bullPrefix(this.prefix);
    const [last] = await this.connection.xrevrange(`${prefix}:${name}:events`, "+", "-", "COUNT", 1);
    const connection = createRedis(this.redisUrl);
    this.eventConnections.push(connection);
    return new QueueEvents(name, { connection, prefix, lastEventId: last?.[0] ?? "0-0" });
  }
}

function parseReply(value: unknown): CommandReply {
  return (typeof value === "string" ? JSON.parse(value) : value) as CommandReply;
}

/** A command answered before: the first result, marked as such, with nothing appended this time. */
function asDuplicate(reply: CommandReply): CommandReply {
  return reply.ok ? { ok: true, outcome: { ...reply.outcome, duplicate: true, events: [] } } : reply;
}
