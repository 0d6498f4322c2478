import type { RedisClient } from "../core/redis";
import type { EventStore } from "../eventstore/eventStore";
import { KeyedSerializer } from "../core/serialize";
import { formatLogPosition, type LogPosition } from "../eventstore/logPosition";
import type { ReadAllResult, RecordedEvent } from "../eventstore/types";
import { ConcurrencyError, errorMessage, NotFoundError } from "../core/errors";
import { type GenerationKeys, parseGeneration, type ReadModelKeys } from "./keys";
import { EventFailure, fromWireEvent, type ParkedEvent, parkedEntry, parseParked, ProjectionEventError } from "./parked";
import { type Plan, planBatch, writePlan } from "./fold";
import type { DocumentProjection } from "./types";
import { DEFAULT_CHANGE_LOG_LENGTH } from "../subscriptions/changeLog";
import { publishChanges } from "../subscriptions/publish";
import { type PubSubMode, pubSubMode, queuePublish } from "../core/redisPubSub";
import { RedisCheckpointer } from "../processing/redisCheckpointer";
import type { ProcessorStep, StepResult } from "../processing/types";


export interface RunnerOptions {
  batchSize: number;
  /**
   * Which generation to write: the active one (live projector, publishes
   * changes) or a fixed one (rebuilds and checks, silent).
   */
  target: { kind: "active" } | { kind: "fixed"; generation: number };
  /** Failed attempts at one event before it is parked and passed (default 3). */
  maxEventAttempts?: number;
  /** Batches of changes kept in the projection's change log for subscriptions to resume from (default 10,000). */
  changeLogLength?: number;
  /**
   * Reads the next batch from PostgreSQL while this one is written to Redis
   * (rebuilds). Safe: a batch read early is a batch like any other (it ends
   * below every open transaction as of its read), and it is used only if the
   * stored checkpoint is where it starts.
   */
  readAhead?: boolean;
}

export const DEFAULT_MAX_EVENT_ATTEMPTS = 3;

/**
 * The step of a projection processor: applies the log to one projection, one
 * batch at a time. A batch and its checkpoint commit together through the
 * RedisCheckpointer (WATCH on the checkpoint and the active pointer, then
 * MULTI/EXEC), so a batch applies exactly once even when two runners, a
 * retried job or a restarted process race on it. The processing driver
 * (Projector's drains, rebuilds) runs it.
 *
 * The connection must be dedicated: WATCH is per connection.
 */
export class ProjectionRunner<Doc> implements ProcessorStep {
  readonly name: string;
  private readonly checkpointer: RedisCheckpointer;
  private readonly typeFilter: ReadonlySet<string> | null;
  /** Serialises steps: WATCH state lives on the connection, so two overlapping steps would corrupt it. */
  private readonly serial = new KeyedSerializer();
  private readonly maxEventAttempts: number;
  private ahead: { from: string; read: Promise<ReadAllResult> } | null = null;
  private readonly pubSub: PubSubMode;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: EventStore,
    private readonly keys: ReadModelKeys,
    readonly projection: DocumentProjection<Doc>,
    private readonly options: RunnerOptions,
  ) {
    this.name = projection.name;
    this.checkpointer = new RedisCheckpointer(redis);
    this.pubSub = pubSubMode(redis);
    this.typeFilter = projection.eventTypes === "all" ? null : new Set(projection.eventTypes);
    this.maxEventAttempts = options.maxEventAttempts ?? DEFAULT_MAX_EVENT_ATTEMPTS;
  }

  /** Reads the next batch after the stored checkpoint and applies it. */
  step(): Promise<StepResult> {
    return this.exclusive(() => this.readAndApply());
  }

  /**
   * Applies `events`, read after `from`, if and only if the stored checkpoint
   * still equals `from`. Replaying an already applied batch is a no-op.
   */
  applyBatch(from: LogPosition, events: RecordedEvent[]): Promise<StepResult> {
    return this.exclusive(() => this.applyIfAt(from, events));
  }

  private async readAndApply(): Promise<StepResult> {
    const { generation, gen, from: checkpoint } = await this.watchTarget();
    const { events, checkpoint: next } = await this.readBatch(checkpoint).catch(async (error: unknown) => {
      await this.checkpointer.abort().catch(() => undefined); // leave the connection clean for the next step
      throw error;
    });
    if (events.length === 0) {
      await this.checkpointer.abort();
      return { kind: "idle", checkpoint };
    }
    if (this.options.readAhead) {
      const read = this.store.readAll(next, this.options.batchSize);
      read.catch(() => undefined); // reported by the step that uses it, if any
      this.ahead = { from: formatLogPosition(next), read };
    }
    return this.commit(generation, gen, checkpoint, events, next);
  }

  private readBatch(from: LogPosition): Promise<ReadAllResult> {
    const ahead = this.ahead;
    this.ahead = null;
    return ahead?.from === formatLogPosition(from) ? ahead.read : this.store.readAll(from, this.options.batchSize);
  }

  private async applyIfAt(from: LogPosition, events: RecordedEvent[]): Promise<StepResult> {
    const { generation, gen, from: stored } = await this.watchTarget();
    if (formatLogPosition(stored) !== formatLogPosition(from) || events.length === 0) {
      await this.checkpointer.abort();
      return { kind: "superseded" };
    }
    return this.commit(generation, gen, from, events, events.at(-1)!.position);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.serial.run("connection", work);
  }

  async checkpoint(): Promise<LogPosition> {
    const { gen } = await this.resolveTarget();
    return this.checkpointer.read(gen.checkpoint);
  }

  private async resolveTarget(): Promise<{ generation: number; gen: GenerationKeys; checkpointKey: string }> {
    const generation =
      this.options.target.kind === "fixed"
        ? this.options.target.generation
        : parseGeneration(await this.redis.get(this.keys.activeGeneration(this.projection.name)));
    const gen = this.keys.generation(this.projection.name, generation);
    return { generation, gen, checkpointKey: gen.checkpoint };
  }

  /** Opens the unit of work; the live projector also fences on the active pointer, which a rebuild switches. */
  private watchTarget(): Promise<{ generation: number; gen: GenerationKeys; from: LogPosition }> {
    const fence = this.options.target.kind === "active" ? [this.keys.activeGeneration(this.projection.name)] : [];
    return this.checkpointer.begin(fence, () => this.resolveTarget());
  }

  /**
   * Folds the batch into its documents and writes them with the checkpoint.
   * An event the projection's code throws on counts a failed attempt: below
   * the limit the events before it are committed and the step fails (the next
   * step retries the event); at the limit the event is parked, left out, and
   * the batch commits past it, so one bad event never stops a projection.
   */
  private async commit(
    generation: number,
    gen: GenerationKeys,
    from: LogPosition,
    events: RecordedEvent[],
    next: LogPosition,
    parked: ParkedEvent[] = [],
    complete = true,
  ): Promise<StepResult> {
    const filter = this.typeFilter;
    const relevant = filter ? events.filter((e) => filter.has(e.type)) : events;
    const ids = [...new Set(relevant.flatMap((e) => this.safeDocumentIds(e)))];
    const before = await this.loadDocs(gen, ids);
    let plan: Plan<Doc>;
    for (;;) {
      try {
        plan = planBatch(this.projection, relevant, before, new Set(parked.map((p) => p.eventId)));
        break;
      } catch (error) {
        if (!(error instanceof EventFailure)) {
          await this.checkpointer.abort();
          throw error;
        }
        const { event, reason: cause } = error;
        const attempts = await this.redis.hincrby(gen.attempts, event.eventId, 1);
        if (attempts >= this.maxEventAttempts) {
          parked.push(parkedEntry(event, cause, attempts));
          continue;
        }
        const preceding = events.slice(0, events.indexOf(event));
        if (preceding.length > 0) {
          const earlier = new Set(preceding.map((e) => e.eventId));
          await this.commit(generation, gen, from, preceding, preceding.at(-1)!.position, parked.filter((p) => earlier.has(p.eventId)), false);
        } else {
          await this.checkpointer.abort();
        }
        throw new ProjectionEventError(this.projection.name, event, cause, attempts, this.maxEventAttempts);
      }
    }

    const tx = this.checkpointer.transaction();
    writePlan(tx, this.projection, gen, before, plan);
    for (const entry of parked) {
      tx.hset(gen.parked, entry.eventId, JSON.stringify(entry));
      tx.hdel(gen.attempts, entry.eventId);
    }
    // Attempts only ever count events at or after the checkpoint; past a whole batch none is left.
    if (complete) tx.del(gen.attempts);
    if (this.options.target.kind === "active") {
      // Published inside the transaction: subscribers hear of a change exactly
      // when it becomes visible, and an aborted (duplicate) batch says nothing.
      const maxBatches = this.options.changeLogLength ?? DEFAULT_CHANGE_LOG_LENGTH;
      const log = this.projection.topics ? { from, to: next, maxBatches } : null;
      publishChanges(tx, this.keys, this.projection.name, this.pubSub, plan.notifications, log);
      queuePublish(tx, this.pubSub, this.keys.checkpointChannel(this.projection.name), `${this.projection.name} ${generation} ${formatLogPosition(next)}`);
    }
    const committed = await this.checkpointer.commit(tx, gen.checkpoint, next);
    if (!committed.success) return { kind: "superseded" };
    return { kind: "applied", events: events.length, checkpoint: next, parked: parked.map(({ eventId, error }) => ({ eventId, error })) };
  }

  /**
   * Applies one parked event again, to the documents as they are now, and
   * unparks it if the projection's code accepts it this time. A failure
   * leaves it parked with the new error and one more attempt counted.
   */
  retryParked(eventId: string): Promise<{ resolved: boolean; error: string | null }> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const { gen } = await this.watchTarget();
        await this.checkpointer.fence(gen.parked);
        const raw = await this.redis.hget(gen.parked, eventId);
        if (raw === null) {
          await this.checkpointer.abort();
          throw new NotFoundError(`parked event of projection '${this.projection.name}'`, eventId);
        }
        const entry = parseParked(raw);
        const event = fromWireEvent(entry.event);
        let plan: Plan<Doc> | null = null;
        let failure: unknown = null;
        let before = new Map<string, Doc | null>();
        try {
          const ids = this.projection.documentIds(event);
          await this.checkpointer.fence(...ids.map((id) => gen.doc(id)));
          before = await this.loadDocs(gen, ids);
          plan = planBatch(this.projection, [event], before, new Set());
        } catch (error) {
          failure = error instanceof EventFailure ? error.reason : error;
        }
        const tx = this.checkpointer.transaction();
        if (plan) {
          writePlan(tx, this.projection, gen, before, plan);
          tx.hdel(gen.parked, eventId);
          // Live only: the event is older than the checkpoint, so it has no place in the change
          // log's commit order, and feeds drop it as already passed. The document's next change carries it.
          publishChanges(tx, this.keys, this.projection.name, this.pubSub, plan.notifications, null);
        } else {
          tx.hset(gen.parked, eventId, JSON.stringify({ ...entry, error: errorMessage(failure), attempts: entry.attempts + 1 }));
        }
        const result = await this.checkpointer.commit(tx, gen.checkpoint, null);
        if (!result.success) {
          if (attempt >= 10) throw new ConcurrencyError(`${this.projection.name}/${eventId}`, "no concurrent change", attempt);
          continue; // a batch touched the same documents meanwhile: fold onto the newer state
        }
        return { resolved: plan !== null, error: plan ? null : errorMessage(failure) };
      }
    });
  }

  /** documentIds of an event, or none when it throws: `plan` runs it again and attributes the failure. */
  private safeDocumentIds(event: RecordedEvent): string[] {
    try {
      return this.projection.documentIds(event);
    } catch {
      return [];
    }
  }

  private async loadDocs(gen: GenerationKeys, ids: string[]): Promise<Map<string, Doc | null>> {
    const docs = new Map<string, Doc | null>();
    if (ids.length === 0) return docs;
    const raw = await this.redis.mget(ids.map((id) => gen.doc(id)));
    ids.forEach((id, i) => docs.set(id, raw[i] ? (JSON.parse(raw[i]!) as Doc) : null));
    return docs;
  }

}
