import { createHash } from "node:crypto";
import { type Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { assertSameCommand, fingerprintOf, shownCommandId } from "../aggregate/idempotency";
import { DomainError, ErrorCode, errorMessage, IdempotencyKeyReusedError, OverloadedError, UnavailableError, ValidationError } from "../errors";
import type { Admission } from "./admission";
import type { CommandBus } from "./commandBus";
import { bullPrefix, createRedis } from "./connections";
import { asDuplicate, type CommandJob, type CommandReply, fromReply, isDeferralNotice, refusalReply } from "./wire";
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
  /** Longest wait for Redis to take a command before the queue counts as unavailable (default 2000). */
  enqueueTimeoutMs?: number;
  /** Answered jobs kept for resends, newest first (default 10,000); older answers come from the event store. */
  keepCompleted?: number;
  /** Failed jobs kept for inspection and resends, newest first (default 1,000, at most a day). */
  keepFailed?: number;
  /** Largest command (with its context) put on a queue, as JSON bytes (default 16 KiB): bounds what Redis holds. */
  maxCommandBytes?: number;
  /** Refuses new commands of clients (`send`, `admit`) while a service's queue is past its bound; none when absent. */
  admission?: Admission;
}

/**
 * Retention is bounded by count as well as age: a flood of refused or failing
 * commands can only ever hold `keepFailed` jobs of at most `maxCommandBytes`.
 */
function retention(options: QueueCommandBusOptions) {
  return {
    removeOnComplete: { age: 3600, count: options.keepCompleted ?? 10_000 },
    removeOnFail: { age: 24 * 3600, count: options.keepFailed ?? 1000 },
  };
}

/** Redis could not take the command: nothing was queued (or what was is harmless, see enqueue). */
export class CommandQueueUnavailable extends UnavailableError {
  constructor(cause: unknown) {
    super("the command queue (Redis)", cause);
  }
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
  /** A connection still making its first contact is waited for; one that was lost is not. */
  private wasReady: boolean;

  constructor(
    private readonly connection: Redis,
    private readonly redisUrl: string,
    private readonly prefix: string,
    private readonly options: QueueCommandBusOptions,
  ) {
    this.wasReady = connection.status === "ready";
    connection.once("ready", () => (this.wasReady = true));
  }

  async send(service: string, command: unknown, context: CommandContext): Promise<CommandOutcome> {
    return fromReply(await this.sendRaw(service, command, context, this.options.timeoutMs, true));
  }

  /**
   * Like `send`, with a wait bound of the caller's choosing; refusals come back as replies, not errors.
   * `admit`: a client's new command, subject to admission control; sagas' steps are not (they finish accepted work).
   */
  async sendRaw(service: string, command: unknown, context: CommandContext, timeoutMs: number, admit = false): Promise<CommandReply> {
    const enqueued = await this.enqueue(service, command, context, admit);
    if ("reply" in enqueued) return enqueued.reply;
    const { job, events, answered } = enqueued;
    let stopListening = () => undefined as void;
    const deferred = new Promise<never>((_, reject) => {
      const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
        if (jobId !== job.id || !isDeferralNotice(data)) return;
        const { details } = data.deferred;
        reject(
          new DomainError(
            ErrorCode.UNAVAILABLE,
            `${data.deferred.message}. The command stays queued and will run when it is back; resend it with the ` +
              `same commandId (${shownCommandId(context)}) to get its result.`,
            { ...details, service, commandId: shownCommandId(context), queued: true },
          ),
        );
      };
      events.on("progress", onProgress);
      stopListening = () => void events.off("progress", onProgress);
    });
    try {
      return parseReply(await Promise.race([job.waitUntilFinished(events, timeoutMs), deferred]));
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const message = errorMessage(error);
      if (/timed out before finishing/.test(message)) {
        throw new DomainError(
          ErrorCode.COMMAND_TIMEOUT,
          `The ${service} service did not answer within ${timeoutMs} ms. The command stays queued and will run ` +
            `when the service is back; resend it with the same commandId (${shownCommandId(context)}) to get its result.`,
          { service, commandId: shownCommandId(context), timeoutMs },
        );
      }
      throw new UnavailableError(`the ${service} service`, message);
    } finally {
      stopListening();
      answered?.();
    }
  }

  /**
   * Puts the command on its service's queue, or finds it there. Fails with
   * CommandQueueUnavailable, quickly, when Redis cannot take it: the caller
   * may then use another lane (an enqueue that still lands later is harmless,
   * the command running once by its commandId).
   */
  private async enqueue(
    service: string,
    command: unknown,
    context: CommandContext,
    admit: boolean,
  ): Promise<{ reply: CommandReply } | { job: Job<CommandJob, CommandReply>; events: QueueEvents; answered?: () => void }> {
    if (this.wasReady && this.connection.status !== "ready") {
      throw new CommandQueueUnavailable(`connection is ${this.connection.status}`);
    }
    const maxBytes = this.options.maxCommandBytes ?? 16 * 1024;
    const bytes = Buffer.byteLength(JSON.stringify({ command, context }));
    if (bytes > maxBytes) throw new ValidationError("command", `${bytes} bytes`, `at most ${maxBytes} bytes (COMMAND_MAX_BYTES)`);
    const queue = this.queue(service);
    const jobId = commandJobId(service, context.commandId);
    const attempt = async () => {
      const events = await this.queueEvents(service);
      let job = await queue.getJob(jobId);
      // A job under this key that holds another command (or another sender's) is never joined nor answered from.
      if (job && !sameCommand(job.data, command, context)) {
        return { reply: refusalReply(new IdempotencyKeyReusedError(shownCommandId(context))) };
      }
      const state = job ? await job.getState() : null;
      if (job && state === "completed") return { reply: asDuplicate(parseReply(job.returnvalue)) };
      if (job && state === "failed") await job.retry("failed");
      // Only a command not yet queued can be refused: a resend joins its job, whatever the load.
      const answered = !job && admit ? await this.options.admission?.admit(service, queue) : undefined;
      job ??= await queue.add(COMMAND_JOB, { command, context }, {
        jobId,
        attempts: this.options.attempts,
        backoff: { type: "exponential", delay: 100 },
        ...retention(this.options),
      });
      return { job, events, answered };
    };
    const enqueueTimeoutMs = this.options.enqueueTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        attempt(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${enqueueTimeoutMs} ms`)), enqueueTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof OverloadedError) throw error;
      throw new CommandQueueUnavailable(error);
    } finally {
      clearTimeout(timer);
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
      queue.on("error", () => undefined); // Redis outages surface as CommandQueueUnavailable on send
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
    connection.on("error", () => undefined); // reconnects by itself
    this.eventConnections.push(connection);
    const events = new QueueEvents(name, { connection, prefix, lastEventId: last?.[0] ?? "0-0" });
    events.on("error", () => undefined);
    return events;
  }
}

/** Whether a queued job is this command from this sender (a forged or malformed job never is). */
function sameCommand(job: CommandJob | undefined, command: unknown, context: CommandContext): boolean {
  if (!job || typeof job.context !== "object" || job.context === null) return false;
  try {
    assertSameCommand({ actor: job.context.actor, fingerprint: fingerprintOf(job.command, job.context) }, command, context);
    return true;
  } catch {
    return false;
  }
}

function parseReply(value: unknown): CommandReply {
  return (typeof value === "string" ? JSON.parse(value) : value) as CommandReply;
}
