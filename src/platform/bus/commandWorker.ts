import { DelayedError, type Job, Worker } from "bullmq";
import { DomainError, ErrorCode, errorMessage, UnavailableError, ValidationError } from "../core/errors";
import { connectionLost, type PostgresHealth } from "./postgresHealth";
import type { Logger } from "../observability/logger";
import { queueTelemetry } from "../observability/queueTelemetry";
import type { CommandExecutor } from "./commandBus";
import { bullPrefix, type RedisClient } from "../core/redis";
import { COMMAND_JOB, commandQueueName } from "./queueCommandBus";
import { answer, refusalReply } from "./reply";
import { isReplyChannel, publishReply, type ReplyBody } from "./replyChannel";
import { type CommandJob, type CommandReply, type DeferralNotice, parseCommandJob, toWireOutcome } from "./wire";
import { DEFAULT_RECLAIM_WITHIN_MS, WorkerRecovery } from "./workerRecovery";

export interface CommandWorkerOptions {
  concurrency: number;
  /** Pause before a command deferred for a missing dependency is tried again. */
  deferMs: number;
  /** When given, commands are deferred without trying while it says PostgreSQL is down. */
  health?: PostgresHealth;
  /** A command its dead predecessor was running is taken back within this long (see WorkerRecovery). */
  reclaimWithinMs: number;
}

/**
 * The owning service's end of its command queue. Refusals (validation,
 * invariants) complete the job with a refusal reply; transient failures throw,
 * so BullMQ retries them with backoff. Re-running a job is safe: the command
 * handler answers a repeated commandId with its first result.
 *
 * A dependency that is down (UNAVAILABLE) is different: the command is neither
 * answered nor dropped. It is deferred, without using up attempts, until the
 * dependency is back, and the waiting caller is told at once through the
 * job's progress (see QueueCommandBus), instead of waiting for its timeout.
 */
export class CommandWorker {
  private readonly worker: Worker<CommandJob, CommandReply>;
  private readonly recovery: WorkerRecovery;
  private readonly started: Promise<void>;

  constructor(
    service: string,
    execute: CommandExecutor,
    connection: RedisClient,
    prefix: string,
    log: Logger,
    options: Partial<CommandWorkerOptions> = {},
  ) {
    const { concurrency = 8, deferMs = 1000, health, reclaimWithinMs = DEFAULT_RECLAIM_WITHIN_MS } = options;
    this.recovery = new WorkerRecovery(connection, reclaimWithinMs, log);
    const busPrefix = bullPrefix(prefix, commandQueueName(service));
    // Straight to the sender's reply channel, before BullMQ stores the answer: the caller hears it one round trip
    // sooner. Safe: a job that then fails to finish runs again, and its commandId answers with the first result.
    const tell = (job: Job<CommandJob, CommandReply>, message: ReplyBody) => {
      const replyTo: unknown = job.data?.replyTo;
      if (job.id !== undefined && isReplyChannel(replyTo, busPrefix)) publishReply(connection, replyTo, { id: job.id, ...message });
    };
    // `notify: false` for a busy database (not an outage): the caller keeps waiting for the reply, which comes after the pause.
    const defer = async (job: Job<CommandJob, CommandReply>, token: string | undefined, error: DomainError, notify = true) => {
      const notice: DeferralNotice = { deferred: { code: error.code, message: error.message, details: { ...error.details } } };
      if (notify) {
        await job.updateProgress(notice);
        tell(job, { notice });
      }
      await job.moveToDelayed(Date.now() + deferMs, token);
      throw new DelayedError();
    };
    const run = async (job: Job<CommandJob, CommandReply>, token: string | undefined): Promise<CommandReply> => {
      if (job.name !== COMMAND_JOB) return refusalReply(new ValidationError("job", job.name, `a '${COMMAND_JOB}' job`));
      if (health && !health.isUp()) {
        return defer(job, token, new UnavailableError("PostgreSQL", "not answering health probes"));
      }
      try {
        return await answer(async () => {
          const { command, context } = parseCommandJob(job.data); // a forged job: VALIDATION, answered, not retried
          return toWireOutcome(await execute(command, context));
        });
      } catch (error) {
        if (!(error instanceof DomainError && error.code === ErrorCode.UNAVAILABLE)) throw error;
        health?.reportFailure(error); // believed only for a lost connection, see connectionLost
        return defer(job, token, error, connectionLost(error));
      }
    };
    this.worker = new Worker<CommandJob, CommandReply>(
      commandQueueName(service),
      async (job, token) => {
        const reply = await run(job, token);
        tell(job, { reply });
        return reply;
      },
      // Not autorun: it takes jobs only once its presence is registered (see WorkerRecovery.register).
      { connection, prefix: busPrefix, concurrency, autorun: false, ...this.recovery.workerOptions(), ...queueTelemetry() },
    );
    this.started = this.recovery.register().then(async () => {
      this.worker.run().catch((error: unknown) => log.error({ service }, `${service} worker stopped: ${errorMessage(error)}`));
      await this.worker.waitUntilReady();
      await this.recovery.start(this.worker);
    });
    this.started.catch((error: unknown) => log.error({ service }, `${service} worker recovery: ${errorMessage(error)}`));
    this.worker.on("failed", (job, error) => {
      // Attempts used up: the caller learns at once that it failed for good, as QueueEvents' "failed" told it.
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) tell(job, { failed: errorMessage(error) });
      log.warn(
        { service, commandId: job?.data.context?.commandId, correlationId: job?.data.context?.correlationId, attempt: job?.attemptsMade },
        `${service} command ${job?.data.context?.commandId ?? "?"} failed (attempt ${job?.attemptsMade ?? "?"}): ${errorMessage(error)}`,
      );
    });
    this.worker.on("error", (error) => log.error({ service }, `${service} worker: ${errorMessage(error)}`));
  }

  /** Ready once taking jobs, with the look for commands a dead predecessor left running under way. */
  waitUntilReady(): Promise<unknown> {
    return this.started;
  }

  /** Lets running commands finish; queued ones wait for the next worker. Its presence goes last. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.recovery.stop();
  }
}
