import { type Job, Queue, Worker } from "bullmq";
import { bullPrefix, createRedis, createTransactionalRedis, type RedisClient, type RedisTarget } from "../core/redis";
import { DEFAULT_RECLAIM_WITHIN_MS, WorkerRecovery } from "../bus/workerRecovery";
import { errorMessage, NotFoundError } from "../core/errors";
import type { EventStore } from "../eventstore/eventStore";
import type { Logger } from "../observability/logger";
import { type AdminRequest, type AdminResult, startAdminWorker } from "./admin";
import { removeAbandonedGenerations } from "./generations";
import type { ReadModelKeys } from "./keys";
import { skipParked } from "./parked";
import { DEFAULT_MAX_EVENT_ATTEMPTS, ProjectionRunner } from "./projectionRunner";
import { defaultRebuildLockTtlMs, Rebuild } from "./rebuild";
import { StatusPublisher } from "./status";
import type { DocumentProjection } from "./types";
import { type DrainJobData, drainedBy, drainJob, PROJECTOR_QUEUE } from "./wakeups";
import { queueTelemetry } from "../observability/queueTelemetry";
import { DEFAULT_CHANGE_LOG_LENGTH } from "../subscriptions/changeLog";
import { drainSteps, type ProcessorObserver } from "../processing/logProcessor";
import type { LeaseCoordinator } from "../processing/leaseCoordinator";
import { LeasedStep, leaseFence } from "../processing/leasedStep";
import type { WorkUnit } from "../processing/leaseStore";
import type { ProcessorStep } from "../processing/types";
import { SharedLogReads } from "../processing/sharedLogReads";
import type { UnitLease } from "../processing/unitLease";

export interface ProjectorOptions {
  /** Events read from the log per batch (and per Redis transaction). */
  batchSize: number;
  /** Period of the catch-up drain that covers lost wake-ups, and of status publication. */
  catchUpEveryMs: number;
  /** A drain job yields after this long and re-queues itself, keeping jobs short. */
  drainBudgetMs: number;
  /** Failed attempts at one event before it is parked and passed. */
  maxEventAttempts: number;
  /** A rebuild's lock expires this long after its last renewal (a crashed rebuild frees it). */
  rebuildLockTtlMs: number;
  /** Change batches kept per projection for subscriptions to resume from. */
  changeLogLength: number;
  /** Drain jobs a dead projector held are taken back within this long (see WorkerRecovery). */
  reclaimWithinMs: number;
}

export const defaultProjectorOptions: ProjectorOptions = {
  batchSize: 500,
  catchUpEveryMs: 1000,
  drainBudgetMs: 2000,
  maxEventAttempts: DEFAULT_MAX_EVENT_ATTEMPTS,
  rebuildLockTtlMs: defaultRebuildLockTtlMs,
  changeLogLength: DEFAULT_CHANGE_LOG_LENGTH,
  reclaimWithinMs: DEFAULT_RECLAIM_WITHIN_MS,
};

export interface ProjectorDeps {
  store: EventStore;
  /** A Redis URL, or a cluster's start-up nodes. */
  redisUrl: RedisTarget;
  keys: ReadModelKeys;
  projections: readonly DocumentProjection<unknown>[];
  log: Logger;
  /**
   * With leases, each projection is a unit with one owner among the projector
   * replicas: only it drains the projection and publishes its status; the
   * others stand by (decision 0026). Without, every projector drains every
   * projection, fenced by the commit alone.
   */
  leases?: LeaseCoordinator;
}

/** The lease unit of a projection (one segment until projections declare more). */
export function projectionUnit(name: string, segment = 0): WorkUnit {
  return { processor: `projection:${name}`, segment };
}

/**
 * The projector role: BullMQ workers that drain the log into every projection.
 * Jobs say only "drain projection X"; where to start comes from the checkpoint
 * in Redis, so duplicated, retried or reordered jobs are harmless.
 *
 * The catch-up tick is a timer in this process, not a job scheduler stored in
 * Redis: if Redis loses its data, the tick still runs, finds no checkpoints
 * and projects every read model again from the start of the log.
 */
export class Projector {
  private readonly options: ProjectorOptions;
  private readonly runners = new Map<string, ProjectionRunner<unknown>>();
  /** What drains drive: the runner, under its lease when there are leases. */
  private readonly steps = new Map<string, ProcessorStep>();
  private readonly leased = new Map<string, UnitLease>();
  /** Drain hints for the owner of a projection, sent by the replica that took a wake-up job it does not own. */
  private hints: RedisClient | null = null;
  /** Batches read and thrown away because another runner committed first (0 with leases, barring a hand-off). */
  thrownAway = 0;
  private readonly connections: RedisClient[] = [];
  private readonly rebuilds = new Map<string, { rebuild: Rebuild<unknown>; done: Promise<void> }>();
  private worker: Worker<DrainJobData> | null = null;
  private recovery: WorkerRecovery | null = null;
  private admin: Worker<AdminRequest> | null = null;
  private queue: Queue<DrainJobData> | null = null;
  private status: StatusPublisher | null = null;
  private control: RedisClient | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private cleanup: Promise<void> = Promise.resolve();
  /** Catch-up drains this process's ticks are running, one per projection at most. */
  private readonly catchingUp = new Map<string, Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly deps: ProjectorDeps,
    options: Partial<ProjectorOptions> = {},
  ) {
    this.options = { ...defaultProjectorOptions, ...options };
  }

  async start(): Promise<void> {
    const { keys, store, projections } = this.deps;
    const leases = this.deps.leases;
    const reads = new SharedLogReads((from, limit) => store.readAll(from, limit));
    for (const projection of projections) {
      const lease = leases?.lease(projectionUnit(projection.name));
      const runner = new ProjectionRunner(this.track(await createTransactionalRedis(this.deps.redisUrl)), store, keys, projection, {
        batchSize: this.options.batchSize,
        target: { kind: "active" },
        maxEventAttempts: this.options.maxEventAttempts,
        changeLogLength: this.options.changeLogLength,
        reads,
        ...(lease ? { fence: leaseFence(lease) } : {}),
      });
      this.runners.set(projection.name, runner);
      this.steps.set(projection.name, leases && lease ? new LeasedStep(runner, lease, leases) : runner);
      if (lease) this.leased.set(projection.name, lease);
    }
    if (leases) await this.followLeases(leases);
    const prefix = bullPrefix(keys.prefix, PROJECTOR_QUEUE);
    // Status and skips on a connection of their own, apart from the runners' steps.
    this.control = this.connect();
    this.status = new StatusPublisher(this.control, store, keys);
    this.queue = new Queue<DrainJobData>(PROJECTOR_QUEUE, { connection: this.connect(), prefix, ...queueTelemetry() });
    await this.removeSchedulers(this.queue);
    const workerConnection = this.connect();
    this.recovery = new WorkerRecovery(workerConnection, this.options.reclaimWithinMs, this.deps.log);
    await this.recovery.register(); // before the worker takes a job
    this.worker = new Worker<DrainJobData>(PROJECTOR_QUEUE, (job) => this.drain(job), {
      connection: workerConnection,
      prefix,
      concurrency: Math.max(1, projections.length),
      ...this.recovery.workerOptions(),
      ...queueTelemetry(),
    });
    this.worker.on("failed", (job, error) => {
      const names = job ? drainedBy(job.data).join(", ") : "?";
      this.deps.log.warn({ projections: names }, `drain of ${names} failed: ${errorMessage(error)}`);
    });
    // Redis going away: the worker reconnects by itself and the checkpoints say where to resume.
    this.worker.on("error", (error) => this.deps.log.warn(`projector worker: ${errorMessage(error)}`));
    this.queue.on("error", () => undefined);
    this.admin = startAdminWorker(this.connect(), keys.prefix, (request) => this.handleAdmin(request), this.deps.log);
    await Promise.all([this.worker.waitUntilReady(), this.admin.waitUntilReady()]);
    await this.recovery.start(this.worker);
    this.ticker = setInterval(() => this.tick(), this.options.catchUpEveryMs);
    this.tick();
    this.cleanup = this.removeAbandoned();
    await this.deps.leases?.start(); // takes this replica's share; each acquisition drains at once
  }

  /** Generations a crashed rebuild left behind would otherwise stay until the next rebuild of that projection. */
  private async removeAbandoned(): Promise<void> {
    for (const name of this.runners.keys()) {
      if (this.stopping) return;
      const removed = await removeAbandonedGenerations(this.control!, this.deps.keys, name, this.options.rebuildLockTtlMs).catch((e: unknown) => {
        this.deps.log.warn(`cleanup of ${name}'s abandoned generations failed: ${errorMessage(e)}`);
        return null;
      });
      if (removed) this.deps.log.info(`projection ${name}: removed ${removed} keys of generations a stopped rebuild left behind`);
    }
  }

  /** Stops taking jobs, lets running batches finish, abandons running rebuilds (the old generations stay active), then closes connections. */
  async stop(): Promise<void> {
    // First hand every owned projection off at its next checkpoint, so the other replicas take over at once.
    await this.deps.leases?.stop();
    this.stopping = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const { rebuild } of this.rebuilds.values()) rebuild.abort();
    await Promise.all([...this.rebuilds.values()].map((r) => r.done));
    await Promise.all(this.catchingUp.values());
    await this.cleanup;
    await this.admin?.close();
    await this.worker?.close();
    await this.recovery?.stop();
    await this.queue?.close();
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  /** Starts a blue/green rebuild in this process and answers once it holds the lock. */
  async startRebuild(name: string, by: string): Promise<Rebuild<unknown>> {
    const projection = this.projection(name);
    const connection = await createTransactionalRedis(this.deps.redisUrl);
    let rebuild: Rebuild<unknown>;
    try {
      rebuild = await Rebuild.start(connection, this.deps.store, this.deps.keys, projection, {
        batchSize: this.options.batchSize,
        maxEventAttempts: this.options.maxEventAttempts,
        lockTtlMs: this.options.rebuildLockTtlMs,
        by,
      });
    } catch (error) {
      await connection.quit().catch(() => connection.disconnect());
      throw error;
    }
    this.deps.log.info(`rebuild of ${name} into generation ${rebuild.generation} started by ${by}`);
    const done = rebuild
      .run()
      .then(
        (result) => this.deps.log.info(`rebuild of ${name}: generation ${result.generation} active after ${result.applied} events`),
        (error: unknown) => this.deps.log.warn(`rebuild of ${name} stopped, generation ${rebuild.state.fromGeneration} stays active: ${errorMessage(error)}`),
      )
      .finally(async () => {
        this.rebuilds.delete(name);
        await connection.quit().catch(() => connection.disconnect());
        if (!this.stopping) await this.requeue(name).catch(() => undefined);
      });
    this.rebuilds.set(name, { rebuild, done });
    return rebuild;
  }

  private async handleAdmin(request: AdminRequest): Promise<AdminResult> {
    const { projection } = request;
    switch (request.op) {
      case "rebuild": {
        const rebuild = await this.startRebuild(projection, request.by);
        return { op: "rebuild", projection, generation: rebuild.generation, fromGeneration: rebuild.state.fromGeneration };
      }
      case "retry": {
        const runner = this.runners.get(projection);
        if (!runner) throw new NotFoundError("projection", projection);
        const outcome = await runner.retryParked(request.eventId);
        this.deps.log.info(`parked event ${request.eventId} of ${projection} retried by ${request.by}: ${outcome.resolved ? "applied" : outcome.error}`);
        return { op: "retry", projection, eventId: request.eventId, ...outcome };
      }
      case "skip": {
        this.projection(projection);
        await skipParked(this.control!, this.deps.keys, projection, request.eventId, request.by);
        this.deps.log.info(`parked event ${request.eventId} of ${projection} skipped by ${request.by}`);
        return { op: "skip", projection, eventId: request.eventId, resolved: true, error: null };
      }
      default: {
        const never: never = request;
        throw new Error(`unknown admin request ${JSON.stringify(never)}`);
      }
    }
  }

  private projection(name: string): DocumentProjection<unknown> {
    const projection = this.deps.projections.find((p) => p.name === name);
    if (!projection) throw new NotFoundError("projection", name);
    return projection;
  }

  /**
   * Every tick, each projection not already catching up here drains in this
   * process, and its status is published. The catch-up runs outside BullMQ on
   * purpose: it must work when Redis lost the queue, and while a drain job of a
   * killed projector sits stalled (holding the wake-ups' deduplication) until
   * BullMQ notices. Racing a job's drain is safe: a batch commits only at the checkpoint it read (decision 0025).
   */
  private tick(): void {
    for (const name of this.runners.keys()) {
      if (this.stopping || this.catchingUp.has(name) || !this.drives(name)) continue;
      const run = this.drainProjection(name)
        .catch((e: unknown) => this.deps.log.warn(`projection ${name} failed: ${errorMessage(e)}`))
        .then(() => this.status?.publish(name, true, this.ownerOf(name)))
        .catch(() => undefined) // the next tick tries again
        .finally(() => this.catchingUp.delete(name));
      this.catchingUp.set(name, run);
    }
  }

  /**
   * Drains the projections a job names together, so that they start at once
   * and read a batch they share once. One failing does not stop the others;
   * the job then fails with the first error.
   */
  private async drain(job: Job<DrainJobData>): Promise<number> {
    const outcomes = await Promise.allSettled(drainedBy(job.data).map((name) => this.drainOrPass(name)));
    const failed = outcomes.find((o) => o.status === "rejected");
    if (failed) throw failed.reason;
    return outcomes.reduce((sum, o) => sum + (o.status === "fulfilled" ? o.value : 0), 0);
  }

  private async drainOrPass(name: string): Promise<number> {
    if (this.drives(name)) return this.drainProjection(name);
    // Any replica takes any wake-up job; one for a projection owned elsewhere is passed on to its owner.
    if (this.runners.has(name)) await this.control?.publish(this.hintChannel, name).catch(() => undefined);
    return 0;
  }

  /** Whether this process drives `name` now: always without leases, only as its lease's owner with them. */
  private drives(name: string): boolean {
    const lease = this.leased.get(name);
    return !lease || lease.fence() !== null;
  }

  /** The lease this process holds on `name`, as status shows it (null without leases). */
  private ownerOf(name: string): { owner: string; token: number } | null {
    const lease = this.leased.get(name);
    return lease && this.deps.leases && lease.fence() ? { owner: this.deps.leases.member, token: lease.token } : null;
  }

  private get hintChannel(): string {
    return `${this.deps.keys.prefix}:projector:hints`;
  }

  /** The owner drains at once when it takes a lease, and when another replica passes a wake-up on. */
  private async followLeases(leases: LeaseCoordinator): Promise<void> {
    const byUnit = new Map([...this.runners.keys()].map((name) => [projectionUnit(name).processor, name]));
    leases.onChange((unit, change, token) => {
      const name = byUnit.get(unit.processor);
      if (!name) return;
      this.deps.log.info(`projection ${name}: lease ${change} (token ${token}) by ${leases.member}`);
      if (change === "acquired") this.catchUp(name);
    });
    this.hints = this.connect();
    this.hints.on("message", (_channel: string, name: string) => {
      if (this.runners.has(name) && this.drives(name)) this.catchUp(name);
    });
    await this.hints.subscribe(this.hintChannel);
  }

  /** A drain outside BullMQ, at most one per projection at a time (a hint during one is covered by its next step). */
  private catchUp(name: string): void {
    if (this.stopping || this.catchingUp.has(name)) return;
    const run = this.drainProjection(name)
      .catch((e: unknown) => this.deps.log.warn(`projection ${name} failed: ${errorMessage(e)}`))
      .finally(() => this.catchingUp.delete(name));
    this.catchingUp.set(name, run);
  }

  /** Applies batches until the log is drained or the time budget is spent (then a job continues). */
  private async drainProjection(name: string): Promise<number> {
    const step = this.steps.get(name);
    if (!step) return 0; // queued for a projection this process does not run
    try {
      const { applied, drained } = await drainSteps(step, {
        budgetMs: this.options.drainBudgetMs,
        stopping: () => this.stopping,
        observer: this.observer,
      });
      if (!drained && !this.stopping) await this.requeue(name);
      return applied;
    } finally {
      await this.status?.publish(name, false, this.ownerOf(name)).catch(() => undefined);
    }
  }

  /** Status and logs of every drain, job or tick. */
  private readonly observer: ProcessorObserver = {
    applied: async (name, step) => {
      this.status?.recordApplied(name, step.events);
      for (const { eventId, error } of step.parked) {
        const message = `parked event ${eventId} after ${this.options.maxEventAttempts} attempts: ${error}`;
        this.deps.log.warn(`projection ${name}: ${message}`);
        await this.status?.recordError(name, message).catch(() => undefined);
      }
    },
    failed: (name, error) => this.status?.recordError(name, error),
    superseded: () => {
      this.thrownAway += 1;
    },
  };

  private async requeue(projection: string): Promise<void> {
    const { name, data, opts } = drainJob([projection]);
    await this.queue?.add(name, data, opts);
  }

  /** Earlier versions scheduled catch-ups in Redis; a schedule left behind (or for a removed projection) only costs jobs. */
  private async removeSchedulers(queue: Queue<DrainJobData>): Promise<void> {
    for (const scheduler of await queue.getJobSchedulers()) await queue.removeJobScheduler(scheduler.key);
  }

  private connect(): RedisClient {
    const connection = createRedis(this.deps.redisUrl);
    connection.on("error", () => undefined); // reconnects by itself; the worker reports the outage
    return this.track(connection);
  }

  private track(connection: RedisClient): RedisClient {
    this.connections.push(connection);
    return connection;
  }
}
