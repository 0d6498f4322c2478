import { createHash } from "node:crypto";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { assertSameCommand, fingerprintOf, shownCommandId } from "../aggregate/idempotency";
import { DomainError, ErrorCode, IdempotencyKeyReusedError, OverloadedError, UnavailableError, ValidationError } from "../core/errors";
import type { Admission } from "./admission";
import { BullLane } from "./bullLane";
import { createRedis, isCluster, type RedisClient, type RedisTarget } from "../core/redis";
import type { RawCommandBus } from "./rawCommandBus";
import { refusalReply } from "./reply";
import { asDuplicate, type CommandJob, commandTimedOut, type CommandReply, fromReply, isDeferralNotice, parseCommandReply, type WireOutcome } from "./wire";

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
  /** Replicas that must hold a command (Redis WAIT) before it counts as accepted (default 0: the primary's word). */
  waitReplicas?: number;
  /** How long WAIT waits for them (default 500 ms); short of them, the caller gets CommandNotReplicatedError. */
  waitTimeoutMs?: number;
  /**
   * Replies come on this process's own pub/sub channel (see replyChannel.ts), the stored job being read every
   * `pollMs` as well; false: through QueueEvents, as before (default true).
   */
  replyChannel?: boolean;
  /** How often a waiting caller reads its job in case a reply message was lost (default 1000 ms). */
  replyPollMs?: number;
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

/** What enqueueing found or did: a stored reply, or a command queued now (`fresh`) or before. */
interface Enqueued {
  reply?: CommandReply;
  /** Queued by this call: no reply can be stored yet. */
  fresh?: boolean;
  /** Releases the command's place in admission control once it is answered. */
  answered?: () => void;
}

/**
 * Fewer replicas than REDIS_WAIT_REPLICAS acknowledged the enqueue in time:
 * the command is queued on the primary but would be lost if it failed over
 * now. It may still run; the caller may resend it with the same commandId,
 * which runs it once (idempotency is recorded in PostgreSQL with its events).
 */
export class CommandNotReplicatedError extends DomainError<"UNAVAILABLE"> {
  constructor(commandId: string, acknowledged: number, required: number, timeoutMs: number) {
    super(
      ErrorCode.UNAVAILABLE,
      `The command queue (Redis) did not copy the command to ${required} replica(s) within ${timeoutMs} ms ` +
        `(${acknowledged} acknowledged): it may still run, but is not yet safe from a failover. Resend it with the ` +
        `same commandId (${commandId}); it runs once.`,
      { dependency: "the command queue (Redis)", commandId, acknowledged, required, queued: true },
    );
  }
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
export class QueueCommandBus implements RawCommandBus {
  private readonly lanes = new Map<string, BullLane<CommandJob, WireOutcome>>();
  private readonly eventConnections: RedisClient[] = [];
  /** A connection still making its first contact is waited for; one that was lost is not. */
  private wasReady: boolean;

  constructor(
    private readonly connection: RedisClient,
    private readonly redisUrl: RedisTarget,
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
    const lane = this.lane(service);
    const commandId = shownCommandId(context);
    let answered: (() => void) | undefined;
    try {
      return await lane.request(commandJobId(service, context.commandId), {
        put: async () => {
          const enqueued = await this.enqueue(lane, service, command, context, admit);
          answered = enqueued.answered;
          return enqueued.reply ?? (enqueued.fresh ? "new" : null);
        },
        timeoutMs,
        timedOut: () => commandTimedOut(service, timeoutMs, context, "stays queued"),
        onNotice: (notice) =>
          isDeferralNotice(notice)
            ? new DomainError(
                ErrorCode.UNAVAILABLE,
                `${notice.deferred.message}. The command stays queued and will run when it is back; resend it with the ` +
                  `same commandId (${commandId}) to get its result.`,
                { ...notice.deferred.details, service, commandId, queued: true },
              )
            : undefined,
      });
    } finally {
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
    lane: BullLane<CommandJob, WireOutcome>,
    service: string,
    command: unknown,
    context: CommandContext,
    admit: boolean,
  ): Promise<Enqueued> {
    if (this.wasReady && this.connection.status !== "ready") {
      throw new CommandQueueUnavailable(`connection is ${this.connection.status}`);
    }
    const maxBytes = this.options.maxCommandBytes ?? 16 * 1024;
    const bytes = Buffer.byteLength(JSON.stringify({ command, context }));
    if (bytes > maxBytes) throw new ValidationError("command", `${bytes} bytes`, `at most ${maxBytes} bytes (COMMAND_MAX_BYTES)`);
    const queue = lane.queue;
    const jobId = commandJobId(service, context.commandId);
    const replicas = this.options.waitReplicas ?? 0;
    const waitTimeoutMs = this.options.waitTimeoutMs ?? 500;
    const attempt = async (): Promise<Enqueued> => {
      await lane.listen();
      const client = this.connection; // the queue's own connection (BullMQ uses a given instance as is): one order for EXISTS, add and WAIT
      let answered: (() => void) | undefined;
      try {
        answered = admit ? await this.options.admission?.admit(service, queue) : undefined;
      } catch (error) {
        // Only a command not yet queued can be refused: a resend joins its job, whatever the load.
        if (!(error instanceof OverloadedError) || !(await client.exists(queue.toKey(jobId)))) throw error;
        return this.replicated(client, replicas, waitTimeoutMs, context, await this.join(lane, jobId, command, context));
      }
      // One round trip: EXISTS and the add go out back to back on one connection, so EXISTS tells
      // whether the add queued the command or found it queued (then a no-op).
      const existed = client.exists(queue.toKey(jobId));
      const added = queue.add(COMMAND_JOB, { command, context, ...(lane.replyTo ? { replyTo: lane.replyTo } : {}) }, {
        jobId,
        attempts: this.options.attempts,
        backoff: { type: "exponential", delay: 100 },
        ...retention(this.options),
      });
      const [found] = await Promise.all([existed, added]).catch((error: unknown) => {
        answered?.();
        throw error;
      });
      if (found) {
        answered?.();
        return this.replicated(client, replicas, waitTimeoutMs, context, await this.join(lane, jobId, command, context));
      }
      return this.replicated(client, replicas, waitTimeoutMs, context, { fresh: true, ...(answered ? { answered } : {}) });
    };
    const enqueueTimeoutMs = (this.options.enqueueTimeoutMs ?? 2000) + (replicas > 0 ? waitTimeoutMs : 0);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        attempt(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${enqueueTimeoutMs} ms`)), enqueueTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof OverloadedError || error instanceof CommandNotReplicatedError) throw error;
      throw new CommandQueueUnavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A command found queued under its key: its reply if it has one, a refusal if it is another command, else it is waited for. */
  private async join(lane: BullLane<CommandJob, WireOutcome>, jobId: string, command: unknown, context: CommandContext): Promise<Enqueued> {
    const job = await lane.queue.getJob(jobId);
    if (!job) return {}; // gone meanwhile (answered and removed): read, then wait, as for any request
    // A job under this key that holds another command (or another sender's) is never joined nor answered from.
    if (!sameCommand(job.data, command, context)) return { reply: refusalReply(new IdempotencyKeyReusedError(shownCommandId(context))) };
    const state = await job.getState();
    const earlier = state === "completed" ? await lane.read(jobId) : null; // not job.returnvalue: read before it completed
    if (earlier) return { reply: asDuplicate(earlier) };
    if (state === "failed") await job.retry("failed");
    return {};
  }

  /**
   * With `waitReplicas`, the command counts as accepted only once that many
   * replicas hold it (WAIT covers every write of this connection so far, the
   * add included, or the no-op add's own event for a joined job).
   */
  private async replicated(client: RedisClient, replicas: number, timeoutMs: number, context: CommandContext, enqueued: Enqueued): Promise<Enqueued> {
    if (replicas <= 0 || enqueued.reply) return enqueued;
    // On a cluster the add went out on the connection to the queue's master, one of ioredis' connections to every
    // master: WAIT on each (one without writes answers at once with its replica count) and take the least.
    const masters = isCluster(client) ? client.nodes("master") : [client];
    const acknowledged = Math.min(...(await Promise.all(masters.map((node) => node.wait(replicas, timeoutMs)))));
    if (acknowledged >= replicas) return enqueued;
    enqueued.answered?.();
    throw new CommandNotReplicatedError(shownCommandId(context), acknowledged, replicas, timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.close()));
    await Promise.all(this.eventConnections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private lane(service: string): BullLane<CommandJob, WireOutcome> {
    let lane = this.lanes.get(service);
    if (!lane) {
      lane = new BullLane({
        name: commandQueueName(service),
        connection: this.connection,
        prefix: this.prefix,
        dependency: `the ${service} service`,
        parse: parseCommandReply,
        ...(this.options.replyChannel === false ? {} : { replyChannel: { pollMs: this.options.replyPollMs ?? 1000 } }),
        eventsConnection: () => {
          const connection = createRedis(this.redisUrl);
          connection.on("error", () => undefined); // reconnects by itself
          this.eventConnections.push(connection);
          return connection;
        },
      });
      this.lanes.set(service, lane);
    }
    return lane;
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
