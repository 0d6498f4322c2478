import { type Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { bullPrefix, createRedis } from "../bus/connections";
import type { EventStore } from "../eventstore/eventStore";
import { errorMessage } from "../errors";
import type { Logger } from "../observability/logger";
import type { ReadModelKeys } from "./keys";
import { ProjectionRunner } from "./projectionRunner";
import type { DocumentProjection } from "./types";
import { DRAIN_JOB, type DrainJobData, PROJECTOR_QUEUE } from "./wakeups";
import { queueTelemetry } from "../observability/queueTelemetry";

export interface ProjectorOptions {
  /** Events read from the log per batch (and per Redis transaction). */
  batchSize: number;
  /** Period of the catch-up drain that covers lost wake-ups. */
  catchUpEveryMs: number;
  /** A drain job yields after this long and re-queues itself, keeping jobs short. */
  drainBudgetMs: number;
}

export const defaultProjectorOptions: ProjectorOptions = { batchSize: 500, catchUpEveryMs: 1000, drainBudgetMs: 2000 };

export interface ProjectorDeps {
  store: EventStore;
  redisUrl: string;
  keys: ReadModelKeys;
  projections: readonly DocumentProjection<unknown>[];
  log: Logger;
}

/**
 * The projector role: BullMQ workers that drain the log into every projection.
 * Jobs say only "drain projection X"; where to start comes from the checkpoint
 * in Redis, so duplicated, retried or reordered jobs are harmless.
 */
export class Projector {
  private readonly options: ProjectorOptions;
  private readonly runners = new Map<string, ProjectionRunner<unknown>>();
  private readonly connections: Redis[] = [];
  private worker: Worker<DrainJobData> | null = null;
  private queue: Queue<DrainJobData> | null = null;
  private stopping = false;

  constructor(
    private readonly deps: ProjectorDeps,
    options: Partial<ProjectorOptions> = {},
  ) {
    this.options = { ...defaultProjectorOptions, ...options };
  }

  async start(): Promise<void> {
    const { keys, store, projections } = this.deps;
    for (const projection of projections) {
      const connection = this.connect();
      this.runners.set(
        projection.name,
        new ProjectionRunner(connection, store, keys, projection, {
          batchSize: this.options.batchSize,
          target: { kind: "active" },
        }),
      );
    }
    const prefix = bullPrefix(keys.prefix);
    this.queue = new Queue<DrainJobData>(PROJECTOR_QUEUE, { connection: this.connect(), prefix, ...queueTelemetry() });
    await this.scheduleCatchUps(this.queue);
    this.worker = new Worker<DrainJobData>(PROJECTOR_QUEUE, (job) => this.drain(job), {
      connection: this.connect(),
      prefix,
      concurrency: Math.max(1, projections.length),
      ...queueTelemetry(),
    });
    this.worker.on("failed", (job, error) =>
      this.deps.log.warn({ projection: job?.data.projection }, `projection ${job?.data.projection ?? "?"} failed: ${errorMessage(error)}`),
    );
    // Redis going away: the worker reconnects by itself and the checkpoints say where to resume.
    this.worker.on("error", (error) => this.deps.log.warn(`projector worker: ${errorMessage(error)}`));
    this.queue.on("error", () => undefined);
    await this.worker.waitUntilReady();
    for (const name of this.runners.keys()) void this.requeue(name);
  }

  /** Stops taking jobs, lets running batches finish, then closes connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker?.close();
    await this.queue?.close();
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private async drain(job: Job<DrainJobData>): Promise<number> {
    const runner = this.runners.get(job.data.projection);
    if (!runner) return 0; // a schedule left by a projection that no longer exists
    const started = Date.now();
    let applied = 0;
    while (!this.stopping) {
      const step = await runner.step();
      if (step.kind === "idle") return applied;
      if (step.kind === "applied") applied += step.events;
      if (Date.now() - started > this.options.drainBudgetMs) break;
    }
    if (!this.stopping) await this.requeue(job.data.projection);
    return applied;
  }

  private async requeue(projection: string): Promise<void> {
    await this.queue?.add(
      DRAIN_JOB,
      { projection },
      { deduplication: { id: `drain:${projection}`, keepLastIfActive: true }, removeOnComplete: true, removeOnFail: 1000 },
    );
  }

  private async scheduleCatchUps(queue: Queue<DrainJobData>): Promise<void> {
    const wanted = new Set(this.runners.keys());
    for (const projection of wanted) {
      await queue.upsertJobScheduler(
        `catch-up:${projection}`,
        { every: this.options.catchUpEveryMs },
        { name: DRAIN_JOB, data: { projection }, opts: { removeOnComplete: true, removeOnFail: 1000 } },
      );
    }
    for (const scheduler of await queue.getJobSchedulers()) {
      const name = scheduler.key.replace(/^catch-up:/, "");
      if (!wanted.has(name)) await queue.removeJobScheduler(scheduler.key);
    }
  }

  private connect(): Redis {
    const connection = createRedis(this.deps.redisUrl);
    connection.on("error", () => undefined); // reconnects by itself; the worker reports the outage
    this.connections.push(connection);
    return connection;
  }
}
