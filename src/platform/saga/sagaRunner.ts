import { isEventOf } from "../aggregate/contract";
import { parseSagaStream, sagaContract } from "./sagaService";
import { type Job, Queue, Worker } from "bullmq";
import { bullPrefix, type RedisClient } from "../core/redis";
import { DEFAULT_RECLAIM_WITHIN_MS, WorkerRecovery } from "../bus/workerRecovery";
import type { RawCommandBus } from "../bus/rawCommandBus";
import { ConcurrencyError, DomainError, ErrorCode, errorMessage } from "../core/errors";
import type { EventStore, Queryable } from "../eventstore/eventStore";
import type { Logger } from "../observability/logger";
import type { RecordedEvent } from "../eventstore/types";
import { evolveSaga, initialSagaState } from "./sagaState";
import { planAfter } from "./sagaPlan";
import { type SagaDefinition, type SagaEvent, type SagaState, sagaStreamId, type StepReply } from "./types";
import { queueTelemetry } from "../observability/queueTelemetry";
import type { LogProcessor } from "../processing/logProcessor";
import { PostgresCheckpointer } from "../processing/postgresCheckpointer";
import { reactor } from "../processing/reactor";
import type { LeaseCoordinator } from "../processing/leaseCoordinator";
import type { WakeupSource } from "../processing/wakeups";
import { SagaSweep } from "./sagaSweep";
import { LocalAdvances } from "./localAdvances";

export const SAGA_QUEUE = "sagas";
/** The log processor (and checkpoint name) that starts saga instances from trigger events. */
export const SAGA_STARTER = "saga-starter";
const ADVANCE = "advance";
/** Left by earlier versions, which swept from a BullMQ job scheduler (lost when Redis loses its data). */
const LEGACY_SWEEP_SCHEDULER = "saga-sweep";

export interface SagaRunnerOptions {
  /** Longest wait for one step's reply before the attempt counts as failed. */
  stepTimeoutMs: number;
  /** Attempts of an advance job (on errors of the runner itself, e.g. PostgreSQL) before the saga is marked FAILED. */
  attempts: number;
  /**
   * How long a step whose service does not answer (COMMAND_TIMEOUT, UNAVAILABLE) is
   * resent before the saga is marked FAILED. Services come back; a compensation
   * must not be abandoned because one was slow for a minute.
   */
  giveUpMs: number;
  /** Period of the sweep that resumes sagas whose wake-up was lost. */
  sweepEveryMs: number;
  /** Advances a dead runner was running are taken back within this long (see WorkerRecovery). */
  reclaimWithinMs: number;
  /** Overrides the definitions' deadlines (tests, demos). */
  deadlineMs?: number;
  /**
   * First advances the starter runs in its own process, at most this many at once; past it (a backlog of
   * triggers after an outage) an instance starts through the queue, whose worker bounds its concurrency.
   */
  localAdvances: number;
}

export const defaultSagaRunnerOptions: SagaRunnerOptions = {
  stepTimeoutMs: 10_000,
  attempts: 8,
  giveUpMs: 600_000,
  sweepEveryMs: 5000,
  reclaimWithinMs: DEFAULT_RECLAIM_WITHIN_MS,
  localAdvances: 32,
};

export interface SagaRunnerDeps {
  db: Queryable;
  store: EventStore;
  bus: RawCommandBus;
  connection: RedisClient;
  prefix: string;
  definitions: readonly SagaDefinition<unknown>[];
  log: Logger;
  /**
   * With leases, one saga replica runs the starter, and with it the instances' first advances; the others stand by
   * for that, while later advances (the sweep's, hand-overs, redrives) are BullMQ jobs any replica takes.
   */
  leases?: LeaseCoordinator;
  /**
   * Hints that a trigger was appended (see processing/redisWakeups.ts), so a saga starts without waiting
   * for the starter's poll. The poll stays as short: a woken read may find the trigger still hidden
   * behind an older open transaction (the log never passes one), and then the poll picks it up.
   */
  wakeups?: WakeupSource;
}

type AdvanceJob = { stream: string; saga: string };
/** An instance's state and the stream version it was folded up to. */
type LoadedSaga = { state: SagaState<unknown>; version: number };

const ACTOR = "saga-runner";
/** Pause before resending a step whose service did not answer (an UNAVAILABLE reply comes at once). */
const NO_ANSWER_PAUSE_MS = 500;

/** The service did not answer, or said it cannot now: worth resending, never a verdict on the step. */
function isNoAnswer(error: unknown): error is DomainError {
  return error instanceof DomainError && (error.code === ErrorCode.COMMAND_TIMEOUT || error.code === ErrorCode.UNAVAILABLE);
}

/**
 * Runs orchestrated sagas. Starts an instance when a trigger event appears in
 * the log, then advances it step by step: record the step, send its command
 * (deterministic id), record the reply. Everything the saga knows is in its
 * own stream, so any runner can pick up any instance after a crash.
 */
export class SagaRunner {
  private readonly options: SagaRunnerOptions;
  private readonly byName: Map<string, SagaDefinition<unknown>>;
  private readonly starter: LogProcessor;
  private readonly queue: Queue<AdvanceJob>;
  private worker: Worker<AdvanceJob> | null = null;
  private readonly recovery: WorkerRecovery;
  private readonly sweep: SagaSweep;
  /** First advances running in this process (see `advanceHere`). */
  private readonly local: LocalAdvances;
  private stopping = false;

  constructor(
    private readonly deps: SagaRunnerDeps,
    options: Partial<SagaRunnerOptions> = {},
  ) {
    this.options = { ...defaultSagaRunnerOptions, ...options };
    this.byName = new Map(deps.definitions.map((d) => [d.name, d]));
    const triggers = [...new Set(deps.definitions.flatMap((d) => d.triggerTypes))];
    this.starter = reactor(
      { name: SAGA_STARTER, eventTypes: triggers, handle: (event) => this.startFrom(event) },
      {
        store: deps.store,
        checkpointer: new PostgresCheckpointer(deps.db),
        log: deps.log,
        ...(deps.leases ? { leases: deps.leases } : {}),
        ...(deps.wakeups ? { wakeups: deps.wakeups } : {}),
      },
    );
    this.queue = new Queue<AdvanceJob>(SAGA_QUEUE, { connection: deps.connection, prefix: bullPrefix(deps.prefix, SAGA_QUEUE), ...queueTelemetry() });
    this.recovery = new WorkerRecovery(deps.connection, this.options.reclaimWithinMs, deps.log);
    this.sweep = new SagaSweep(deps.db, (stream, saga) => this.wake(stream, saga), this.options.sweepEveryMs, deps.log);
    this.local = new LocalAdvances({
      connection: deps.connection,
      key: `${bullPrefix(deps.prefix, SAGA_QUEUE)}:local-advances`,
      recovery: this.recovery,
      handOver: async (stream) => {
        const parsed = parseSagaStream(stream);
        if (parsed) await this.wake(stream, parsed.saga); // a claim on anything else is not an instance: dropped
      },
      // A runner stopping mid-advance leaves its claim, so that its successor or a replica hands the instance on at once.
      keepClaim: () => this.stopping,
      log: deps.log,
    });
  }

  async start(): Promise<void> {
    await this.recovery.register(); // before the worker takes a job
    this.worker = new Worker<AdvanceJob>(SAGA_QUEUE, (job) => this.process(job), {
      connection: this.deps.connection,
      prefix: bullPrefix(this.deps.prefix, SAGA_QUEUE),
      concurrency: 32,
      ...this.recovery.workerOptions(),
      ...queueTelemetry(),
    });
    this.worker.on("failed", (job, error) =>
      // Recording the failure needs PostgreSQL, which may be what failed: the sweep tries again later.
      void this.onFailed(job, error).catch((e: unknown) => this.deps.log.warn(`saga ${job?.data.stream ?? "?"}: ${errorMessage(e)}`)),
    );
    this.worker.on("error", (error) => this.deps.log.warn(`saga worker: ${errorMessage(error)}`));
    await this.worker.waitUntilReady();
    await this.recovery.start(this.worker);
    this.local.start();
    await this.queue.removeJobScheduler(LEGACY_SWEEP_SCHEDULER);
    this.sweep.start();
    this.starter.start();
    await this.deps.leases?.start();
  }

  async stop(): Promise<void> {
    await this.deps.leases?.stop(); // hands the starter off at a checkpoint
    this.stopping = true;
    await this.sweep.stop();
    await this.starter.stop();
    await this.local.stop(); // each ends at its next step, and is handed on from its claim
    await this.worker?.close();
    await this.recovery.stop();
    await this.queue.close();
  }

  /** Asks for an instance to be advanced; at most one advance per instance runs at a time. */
  async wake(stream: string, saga: string): Promise<void> {
    await this.queue.add(ADVANCE, { stream, saga }, { deduplication: { id: stream, keepLastIfActive: true }, ...this.advanceOptions() });
  }

  private advanceOptions() {
    return { attempts: this.options.attempts, backoff: { type: "exponential", delay: 250 }, removeOnComplete: true, removeOnFail: 1000 };
  }

  private async startFrom(event: RecordedEvent): Promise<void> {
    for (const definition of this.deps.definitions) {
      if (!definition.triggerTypes.includes(event.type)) continue;
      const instance = definition.start(event);
      if (instance) await this.startOne(definition, instance, event);
    }
  }

  private async startOne(definition: SagaDefinition<unknown>, instance: { id: string; data: unknown }, trigger: RecordedEvent) {
    const stream = sagaStreamId(definition.name, instance.id);
    const deadlineMs = this.options.deadlineMs ?? definition.deadlineMs;
    const started: SagaEvent = {
      type: "SagaStarted",
      data: {
        sagaId: instance.id,
        saga: definition.name,
        data: instance.data,
        deadlineAt: new Date(Date.parse(trigger.metadata.recordedAt) + deadlineMs).toISOString(),
        correlationId: trigger.metadata.correlationId,
      },
    };
    // The first step's start goes in the same append: the advance that follows only sends it.
    // A definition that cannot plan from this data fails in the advance, as a FAILED saga, never here: the starter must not stall.
    const plan = this.tryPlan(() => planAfter(definition, initialSagaState, [started], Date.now()));
    const { correlationId } = trigger.metadata;
    const events = [
      { ...started, metadata: this.metadata(correlationId, trigger.eventId) },
      ...(plan?.events.slice(1) ?? []).map((event) => ({ ...event, metadata: this.metadata(correlationId, stream) })),
    ];
    let appended = false;
    try {
      await this.deps.store.append(stream, "no_stream", events, { commandId: `saga-start:${trigger.eventId}` });
      appended = true;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error; // already started: a redelivered trigger
    }
    // What was just appended is the instance's whole state: its first advance needs no job and no read.
    if (appended && plan && this.local.size < this.options.localAdvances) await this.advanceHere(stream, definition, { state: plan.state, version: events.length });
    else await this.wake(stream, definition.name);
  }

  /**
   * Runs an advance in this process without waiting for it (the starter goes on to the next trigger).
   * Nothing is lost with it: the instance is in the log and claimed in Redis (LocalAdvances), so a crash
   * hands it to the queue within RECLAIM_WITHIN_MS, as a job would be taken back; an advance that fails
   * is handed to the queue at once, whose jobs retry it and record a saga that keeps failing. An advance
   * from the queue running beside it (the sweep's) is caught by the expected version.
   */
  private async advanceHere(stream: string, definition: SagaDefinition<unknown>, from: LoadedSaga): Promise<void> {
    await this.local.run(stream, () =>
      this.advance(stream, definition, from).catch(async (error: unknown) => {
        this.deps.log.warn(`saga ${stream}: handed to the queue after ${errorMessage(error)}`);
        await this.wake(stream, definition.name).catch(() => undefined); // Redis away too: the sweep wakes it
      }),
    );
  }

  private tryPlan<T>(plan: () => T): T | null {
    try {
      return plan();
    } catch {
      return null;
    }
  }

  private async process(job: Job<AdvanceJob>): Promise<void> {
    if (job.name !== ADVANCE) return; // e.g. a sweep job queued by an earlier version
    const definition = this.byName.get(job.data.saga);
    if (!definition) return;
    await this.advance(job.data.stream, definition);
    // Cut short by this runner stopping, the job would still complete: queued again (after this one, by the
    // deduplication), a successor or a replica resumes the instance at once rather than at the next sweep.
    if (this.stopping) await this.wake(job.data.stream, job.data.saga);
  }

  /**
   * Drives one instance until it ends or must wait; safe to run again at any point.
   * `from`: the state as of a version the caller knows (it just appended it); read from the log otherwise.
   * One append per step: a reply is recorded together with what follows from it (the
   * next step's start, or the end), and the state stays in memory between steps; the
   * expected version of each append catches another runner having moved the instance.
   *
   * It also keeps the instance's deadline, which is why no timer or delayed job does: a wait for a
   * reply ends at the deadline, which is then recorded (`nextAction`). An advance returns only once
   * the instance has ended, unless it fails or its runner stops or dies; whatever resumes such an
   * instance (a job's retry, the claim's hand-over, WorkerRecovery's reclaim, the sweep over
   * `open_sagas`, which also covers Redis losing its jobs) starts here, with the deadline checked
   * first: it is in the instance's stream, so it survives every restart.
   */
  async advance(stream: string, definition: SagaDefinition<unknown>, from?: LoadedSaga): Promise<void> {
    let current = from ?? (await this.load(stream));
    let decided: SagaEvent[] = [];
    while (!this.stopping) {
      const plan = planAfter(definition, current.state, decided, Date.now());
      decided = [];
      if (plan.events.length > 0) {
        if (!(await this.record(stream, current.version, current.state, plan.events))) {
          current = await this.load(stream); // another runner got there first: decide again from what it recorded
          continue;
        }
        current = { state: plan.state, version: current.version + plan.events.length };
      }
      if (plan.then.kind === "stop") return;
      const { step } = plan.then;
      const { state } = current;
      const now = Date.now();
      const deadline = Date.parse(state.deadlineAt);
      const waitMs = step.compensation ? this.options.stepTimeoutMs : Math.min(this.options.stepTimeoutMs, deadline - now);
      let reply: StepReply;
      try {
        const raw = await this.deps.bus.sendRaw(step.service, step.command, {
          commandId: `${stream}/${step.id}`,
          correlationId: state.correlationId,
          causationId: stream,
          actor: `saga:${definition.name}`,
        }, Math.max(1, waitMs));
        reply = raw.ok ? { ok: true, events: raw.outcome.eventTypes } : { ok: false, ...raw.error };
      } catch (error) {
        if (!isNoAnswer(error)) throw error; // the job retries with backoff
        // Another runner may have moved the instance while this one waited: look again before deciding anything.
        current = await this.load(stream);
        if (!step.compensation && Date.now() >= deadline) continue; // the deadline decides; a late reply will change nothing
        if (Date.now() - Date.parse(current.state.steps[step.id]?.at ?? new Date().toISOString()) >= this.options.giveUpMs) {
          await this.record(stream, current.version, current.state, [{ type: "SagaFailed", data: { step: step.id, code: error.code, message: error.message } }]);
          this.deps.log.warn(`saga ${stream} FAILED at step ${step.id} after ${this.options.giveUpMs} ms without an answer: ${error.message} (redrive it once the cause is fixed)`);
          return;
        }
        // Resent with the same command id: it joins the command still queued, or gets its result.
        await new Promise((resolve) => setTimeout(resolve, NO_ANSWER_PAUSE_MS));
        continue;
      }
      const verdict = definition.judge(step, reply);
      decided = [
        verdict.ok
          ? { type: "SagaStepSucceeded", data: { step: step.id, events: reply.ok ? reply.events : [] } }
          : step.compensation
            ? { type: "SagaFailed", data: { step: step.id, code: verdict.code, message: verdict.message } }
            : { type: "SagaStepFailed", data: { step: step.id, code: verdict.code, message: verdict.message, compensation: false } },
      ];
    }
  }

  private async onFailed(job: Job<AdvanceJob> | undefined, error: Error): Promise<void> {
    if (!job || job.name !== ADVANCE || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    const { state, version } = await this.load(job.data.stream);
    if (state.status !== "RUNNING" && state.status !== "COMPENSATING") return;
    const step = Object.entries(state.steps).find(([, s]) => s.status === "STARTED")?.[0] ?? "?";
    const failed: SagaEvent = { type: "SagaFailed", data: { step, code: error instanceof DomainError ? error.code : "UNAVAILABLE", message: error.message } };
    await this.record(job.data.stream, version, state, [failed]).catch((e: unknown) => this.deps.log.error({ saga: job.data.stream }, `saga ${job.data.stream}: ${errorMessage(e)}`));
    this.deps.log.error(
      { saga: job.data.stream, step, correlationId: state.correlationId },
      `saga ${job.data.stream} FAILED at step ${step}: ${error.message} (redrive it once the cause is fixed)`,
    );
  }

  private async load(stream: string): Promise<LoadedSaga> {
    const events = await this.deps.store.readStream(stream);
    let state = initialSagaState;
    // A saga stream holds saga events only; anything else would be a bug elsewhere, and is passed over.
    for (const e of events) if (isEventOf(e, sagaContract)) state = evolveSaga(state, e, e.metadata.recordedAt);
    return { state, version: events.at(-1)?.streamVersion ?? 0 };
  }

  /** Appends at the expected version, as one transaction; false when another runner got there first (reload and decide again). */
  private async record(stream: string, version: number, state: SagaState<unknown>, events: readonly SagaEvent[]): Promise<boolean> {
    try {
      const metadata = this.metadata(state.correlationId, stream);
      await this.deps.store.append(stream, version, events.map((event) => ({ ...event, metadata })));
      return true;
    } catch (error) {
      if (error instanceof ConcurrencyError) return false;
      throw error;
    }
  }

  private metadata(correlationId: string, causationId: string) {
    return { correlationId, causationId, actor: ACTOR };
  }
}
