import type { RedisClient } from "../core/redis";
import type { EventStore } from "../eventstore/eventStore";
import { KeyedSerializer } from "../core/serialize";
import { formatLogPosition, type LogPosition } from "../eventstore/logPosition";
import type { ReadAllResult, RecordedEvent } from "../eventstore/types";
import { ConcurrencyError, errorMessage, NotFoundError } from "../core/errors";
import { FIRST_GENERATION, type GenerationKeys, parseGeneration, type ReadModelKeys } from "./keys";
import { EventFailure, fromWireEvent, type ParkedEvent, parkedEntry, parseParked, ProjectionEventError } from "./parked";
import { type Plan, planBatch, writePlan } from "./fold";
import type { DocumentProjection } from "./types";
import { DEFAULT_CHANGE_LOG_LENGTH } from "../subscriptions/changeLog";
import { publishChanges } from "../subscriptions/publish";
import { type CommitGuard, RedisCheckpointer, type RedisCommitResult } from "../processing/redisCheckpointer";
import type { Fence } from "../processing/checkpointer";
import { RedisWrites } from "../core/redisWrites";
import type { ProcessorStep, StepResult } from "../processing/types";
import type { SharedLogReads, StepMark } from "../processing/sharedLogReads";

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
  /**
   * The lease token this runner commits under, asked at the start of each
   * step: a commit is refused (FENCED) once a higher token has committed to
   * the generation. Without it commits are not fenced by token.
   */
  fence?: () => Fence | undefined;
  /**
   * Log reads shared with the other runners of this process: the projections
   * one append woke read its batch once (processing/sharedLogReads.ts).
   */
  reads?: SharedLogReads;
}

export const DEFAULT_MAX_EVENT_ATTEMPTS = 3;

/** What a step read before planning, and expects unchanged at its commit. */
interface Opened {
  generation: number;
  gen: GenerationKeys;
  from: LogPosition;
  guards: CommitGuard[];
  fence: Fence | undefined;
}

/**
 * The step of a projection processor: applies the log to one projection, one
 * batch at a time. A batch and its checkpoint commit together in one Lua
 * compare-and-set (RedisCheckpointer), so a batch applies exactly once even
 * when two runners, a retried job, a restarted process or a fenced-out lease
 * owner race on it. The processing driver (Projector's drains, rebuilds) runs it.
 *
 * What a commit checks covers every document it read: every writer of a
 * generation's documents either moves its checkpoint (batches) or removes
 * a parked event (retryParked), and the commit is refused when the checkpoint
 * or the number of parked events changed since the step began (decision 0025).
 */
export class ProjectionRunner<Doc> implements ProcessorStep {
  readonly name: string;
  private readonly checkpointer: RedisCheckpointer;
  private readonly typeFilter: ReadonlySet<string> | null;
  /** One step at a time: the read-ahead batch belongs to the step after this one. */
  private readonly serial = new KeyedSerializer();
  private readonly maxEventAttempts: number;
  private ahead: { from: string; read: Promise<ReadAllResult> } | null = null;
  /** The active generation the last live step found (a guess for the next one's single round trip). */
  private activeSeen = FIRST_GENERATION;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: EventStore,
    private readonly keys: ReadModelKeys,
    readonly projection: DocumentProjection<Doc>,
    private readonly options: RunnerOptions,
  ) {
    this.name = projection.name;
    this.checkpointer = new RedisCheckpointer(redis);
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
    const began = this.options.reads?.mark();
    const opened = await this.open();
    const { events, checkpoint: next } = await this.readBatch(opened.from, began);
    if (events.length === 0) return { kind: "idle", checkpoint: opened.from };
    if (this.options.readAhead) {
      const read = this.store.readAll(next, this.options.batchSize);
      read.catch(() => undefined); // reported by the step that uses it, if any
      this.ahead = { from: formatLogPosition(next), read };
    }
    const { step } = await this.commit(opened, events, next);
    return step.kind === "applied" && events.length < this.options.batchSize ? { ...step, atHead: true } : step;
  }

  private readBatch(from: LogPosition, began: StepMark | undefined): Promise<ReadAllResult> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead?.from === formatLogPosition(from)) return ahead.read;
    const { reads, batchSize } = this.options;
    return reads && began !== undefined ? reads.readAll(from, batchSize, began) : this.store.readAll(from, batchSize);
  }

  private async applyIfAt(from: LogPosition, events: RecordedEvent[]): Promise<StepResult> {
    const opened = await this.open();
    if (formatLogPosition(opened.from) !== formatLogPosition(from) || events.length === 0) return { kind: "superseded" };
    return (await this.commit(opened, events, events.at(-1)!.position)).step;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.serial.run("connection", work);
  }

  async checkpoint(): Promise<LogPosition> {
    return (await this.open()).from;
  }

  /**
   * Reads where the step writes and from where: the live projector also
   * guards the active pointer, which a rebuild switches; every step guards the
   * checkpoint and the number of parked events (see the class comment).
   */
  private async open(): Promise<Opened> {
    const fence = this.options.fence?.();
    if (this.options.target.kind === "fixed") {
      const generation = this.options.target.generation;
      const gen = this.keys.generation(this.projection.name, generation);
      const begun = await this.checkpointer.begin(gen.checkpoint, [gen.parked]);
      return { generation, gen, from: begun.from, guards: begun.guards, fence };
    }
    // The active pointer is read in the same round trip as the checkpoint of the generation it named last
    // time; only when a switch moved it are that generation's checkpoint and parked events read again.
    const pointer = this.keys.activeGeneration(this.projection.name);
    const read = async (generation: number, alsoGet: string[]) => {
      const gen = this.keys.generation(this.projection.name, generation);
      return { gen, begun: await this.checkpointer.begin(gen.checkpoint, [gen.parked], alsoGet) };
    };
    let { gen, begun } = await read(this.activeSeen, [pointer]);
    const raw = begun.also[0] ?? null;
    const generation = parseGeneration(raw);
    if (generation !== this.activeSeen) {
      this.activeSeen = generation;
      ({ gen, begun } = await read(generation, []));
    }
    // The value that named this generation: the commit refuses if a switch moved the pointer since.
    const named: CommitGuard = { kind: "equals", key: pointer, value: raw };
    return { generation, gen, from: begun.from, guards: [named, ...begun.guards], fence };
  }

  /**
   * Folds the batch into its documents and commits them with the checkpoint.
   * An event the projection's code throws on counts a failed attempt, in the
   * same commit as the events before it (below the limit; the step then fails
   * and the next one retries the event); at the limit the event is parked,
   * left out, and the batch commits past it, so one bad event never stops a
   * projection. `failing`: the event whose failed attempt this commit counts.
   */
  private async commit(
    opened: Opened,
    events: RecordedEvent[],
    next: LogPosition,
    parked: ParkedEvent[] = [],
    failing: RecordedEvent | null = null,
  ): Promise<{ step: StepResult; counted: number | null }> {
    const { gen, generation, from } = opened;
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
        if (!(error instanceof EventFailure)) throw error;
        const { event, reason: cause } = error;
        const attempts = Number((await this.redis.hget(gen.attempts, event.eventId)) ?? 0) + 1;
        if (attempts >= this.maxEventAttempts) {
          parked.push(parkedEntry(event, cause, attempts));
          continue;
        }
        const preceding = events.slice(0, events.indexOf(event));
        const earlier = new Set(preceding.map((e) => e.eventId));
        const counted =
          preceding.length > 0
            ? await this.commit(opened, preceding, preceding.at(-1)!.position, parked.filter((p) => earlier.has(p.eventId)), event)
            : await this.countFailure(opened, event);
        if (counted.step.kind === "superseded") return counted;
        throw new ProjectionEventError(this.projection.name, event, cause, counted.counted ?? attempts, this.maxEventAttempts);
      }
    }

    const writes = new RedisWrites();
    writePlan(writes, this.projection, gen, before, plan);
    for (const entry of parked) {
      writes.hset(gen.parked, entry.eventId, JSON.stringify(entry));
      writes.hdel(gen.attempts, entry.eventId);
    }
    // Attempts only ever count events at or after the checkpoint; past a whole batch none is left.
    if (failing) writes.hincrby(gen.attempts, failing.eventId, 1);
    else writes.del(gen.attempts);
    if (this.options.target.kind === "active") {
      // Published from inside the commit: subscribers hear of a change exactly
      // when it becomes visible, and a refused (stale) batch says nothing.
      const maxBatches = this.options.changeLogLength ?? DEFAULT_CHANGE_LOG_LENGTH;
      const log = this.projection.topics ? { from, to: next, maxBatches } : null;
      publishChanges(writes, this.keys, this.projection.name, plan.notifications, log);
      writes.publish(this.keys.checkpointChannel(this.projection.name), `${this.projection.name} ${generation} ${formatLogPosition(next)}`);
    }
    const committed = await this.write(opened, writes, next);
    if (!committed.success) return { step: superseded(committed.reason), counted: null };
    const step: StepResult = { kind: "applied", events: events.length, handled: relevant.length, checkpoint: next, parked: parked.map(({ eventId, error }) => ({ eventId, error })) };
    return { step, counted: committed.counted };
  }

  /** Counts a failed attempt at the first event after the checkpoint: nothing else to commit. */
  private async countFailure(opened: Opened, event: RecordedEvent): Promise<{ step: StepResult; counted: number | null }> {
    const committed = await this.write(opened, new RedisWrites().hincrby(opened.gen.attempts, event.eventId, 1), null);
    if (!committed.success) return { step: superseded(committed.reason), counted: null };
    return { step: { kind: "idle", checkpoint: opened.from }, counted: committed.counted };
  }

  private write(opened: Opened, writes: RedisWrites, next: LogPosition | null, guards: readonly CommitGuard[] = opened.guards): Promise<RedisCommitResult> {
    return this.checkpointer.commit({ checkpointKey: opened.gen.checkpoint, fenceKey: opened.gen.fence, guards, writes, next, fence: opened.fence });
  }

  /**
   * Applies one parked event again, to the documents as they are now, and
   * unparks it if the projection's code accepts it this time. A failure
   * leaves it parked with the new error and one more attempt counted. The
   * commit moves no checkpoint; it is refused (and the retry starts over on
   * the newer state) if a batch committed or the parked entry changed meanwhile.
   */
  retryParked(eventId: string): Promise<{ resolved: boolean; error: string | null }> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const opened = await this.open();
        const { gen } = opened;
        const raw = await this.redis.hget(gen.parked, eventId);
        if (raw === null) throw new NotFoundError(`parked event of projection '${this.projection.name}'`, eventId);
        const entry = parseParked(raw);
        const event = fromWireEvent(entry.event);
        let plan: Plan<Doc> | null = null;
        let failure: unknown = null;
        let before = new Map<string, Doc | null>();
        try {
          before = await this.loadDocs(gen, this.projection.documentIds(event));
          plan = planBatch(this.projection, [event], before, new Set());
        } catch (error) {
          failure = error instanceof EventFailure ? error.reason : error;
        }
        const writes = new RedisWrites();
        if (plan) {
          writePlan(writes, this.projection, gen, before, plan);
          writes.hdel(gen.parked, eventId);
          // Live only: the event is older than the checkpoint, so it has no place in the change
          // log's commit order, and feeds drop it as already passed. The document's next change carries it.
          publishChanges(writes, this.keys, this.projection.name, plan.notifications, null);
        } else {
          writes.hset(gen.parked, eventId, JSON.stringify({ ...entry, error: errorMessage(failure), attempts: entry.attempts + 1 }));
        }
        const guards: CommitGuard[] = [...opened.guards, { kind: "fieldEquals", key: gen.parked, field: eventId, value: raw }];
        const result = await this.write({ ...opened, fence: undefined }, writes, null, guards);
        if (!result.success) {
          if (attempt >= 10) throw new ConcurrencyError(`${this.projection.name}/${eventId}`, "no concurrent change", attempt);
          continue; // a batch or another retry changed the generation meanwhile: fold onto the newer state
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

function superseded(reason: "MISMATCH" | "FENCED"): StepResult {
  return reason === "FENCED" ? { kind: "superseded", fenced: true } : { kind: "superseded" };
}
