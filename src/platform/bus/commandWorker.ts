import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { DomainError, errorMessage, isTransient } from "../errors";
import type { Logger } from "../observability/logger";
import type { CommandExecutor } from "./commandBus";
import { bullPrefix } from "./connections";
import { COMMAND_JOB, commandQueueName } from "./queueCommandBus";
import { type CommandJob, type CommandReply, refusalReply, toReply } from "./wire";
import { queueTelemetry } from "../observability/queueTelemetry";

/**
 * The owning service's end of its command queue. Refusals (validation,
 * invariants) complete the job with a refusal reply; transient failures throw,
 * so BullMQ retries them with backoff. Re-running a job is safe: the command
 * handler answers a repeated commandId with its first result.
 */
export class CommandWorker {
  private readonly worker: Worker<CommandJob, CommandReply>;

  constructor(
    service: string,
    execute: CommandExecutor,
    connection: Redis,
    prefix: string,
    log: Logger,
    concurrency = 8,
  ) {
    this.worker = new Worker<CommandJob, CommandReply>(
      commandQueueName(service),
      async (job) => {
        if (job.name !== COMMAND_JOB) throw new Error(`unexpected job '${job.name}'`);
        try {
          return toReply(await execute(job.data.command, job.data.context));
        } catch (error) {
          if (error instanceof DomainError && !isTransient(error)) return refusalReply(error);
          throw error;
        }
      },
      { connection, prefix: bullPrefix(prefix), concurrency, ...queueTelemetry() },
    );
    this.worker.on("failed", (job, error) =>
      log.warn(
        { service, commandId: job?.data.context.commandId, correlationId: job?.data.context.correlationId, attempt: job?.attemptsMade },
        `${service} command ${job?.data.context.commandId ?? "?"} failed (attempt ${job?.attemptsMade ?? "?"}): ${errorMessage(error)}`,
      ),
    );
    this.worker.on("error", (error) => log.error({ service }, `${service} worker: ${errorMessage(error)}`));
  }

  waitUntilReady(): Promise<unknown> {
    return this.worker.waitUntilReady();
  }

  /** Lets running commands finish; queued ones wait for the next worker. */
  close(): Promise<void> {
    return this.worker.close();
  }
}
