import type { Redis } from "ioredis";
import type { EventStore } from "../eventstore/eventStore";
import { KeyedSerializer } from "../serialize";
import { formatLogPosition, LOG_START, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { type GenerationKeys, parseGeneration, type ReadModelKeys } from "./keys";
import type { ChangeNotification, DocumentProjection, IndexEntry } from "./types";

export interface RunnerOptions {
  batchSize: number;
  /**
   * Which generation to write: the active one (live projector, publishes
   * changes) or a fixed one (rebuilds and checks, silent).
   */
  target: { kind: "active" } | { kind: "fixed"; generation: number };
}

export type StepResult =
  | { kind: "applied"; events: number; checkpoint: LogPosition }
  | { kind: "idle"; checkpoint: LogPosition }
  /** Another runner moved the checkpoint (or the active generation) first; nothing was written. */
  | { kind: "superseded" };

/**
 * Applies the log to one projection, one batch at a time. A batch and its
 * checkpoint are written in one MULTI/EXEC guarded by WATCH on the checkpoint
 * (and the active pointer), so a batch applies exactly once even when two
 * runners, a retried job or a restarted process race on it.
 *
 * The connection must be dedicated: WATCH is per connection.
 */
export class ProjectionRunner<Doc> {
  private readonly typeFilter: ReadonlySet<string> | null;
  /** Serialises steps: WATCH state lives on the connection, so two overlapping steps would corrupt it. */
  private readonly serial = new KeyedSerializer();

  constructor(
    private readonly redis: Redis,
    private readonly store: EventStore,
    private readonly keys: ReadModelKeys,
    readonly projection: DocumentProjection<Doc>,
    private readonly options: RunnerOptions,
  ) {
    this.typeFilter = projection.eventTypes === "all" ? null : new Set(projection.eventTypes);
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
    const { generation, gen } = await this.watchTarget();
    const checkpoint = parseCheckpoint(await this.redis.get(gen.checkpoint));
    const { events, checkpoint: next } = await this.store.readAll(checkpoint, this.options.batchSize).catch(async (error: unknown) => {
      await this.redis.unwatch().catch(() => undefined); // leave the connection clean for the next step
      throw error;
    });
    if (events.length === 0) {
      await this.redis.unwatch();
      return { kind: "idle", checkpoint };
    }
    return this.commit(generation, gen, events, next);
  }

  private async applyIfAt(from: LogPosition, events: RecordedEvent[]): Promise<StepResult> {
    const { generation, gen } = await this.watchTarget();
    const stored = parseCheckpoint(await this.redis.get(gen.checkpoint));
    if (formatLogPosition(stored) !== formatLogPosition(from) || events.length === 0) {
      await this.redis.unwatch();
      return { kind: "superseded" };
    }
    return this.commit(generation, gen, events, events.at(-1)!.position);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.serial.run("connection", work);
  }

  async checkpoint(): Promise<LogPosition> {
    const { gen } = await this.resolveTarget();
    return parseCheckpoint(await this.redis.get(gen.checkpoint));
  }

  private async resolveTarget(): Promise<{ generation: number; gen: GenerationKeys }> {
    const generation =
      this.options.target.kind === "fixed"
        ? this.options.target.generation
        : parseGeneration(await this.redis.get(this.keys.activeGeneration(this.projection.name)));
    return { generation, gen: this.keys.generation(this.projection.name, generation) };
  }

  private async watchTarget(): Promise<{ generation: number; gen: GenerationKeys }> {
    const active = this.keys.activeGeneration(this.projection.name);
    if (this.options.target.kind === "active") await this.redis.watch(active);
    const target = await this.resolveTarget();
    await this.redis.watch(target.gen.checkpoint);
    return target;
  }

  private async commit(
    generation: number,
    gen: GenerationKeys,
    events: RecordedEvent[],
    next: LogPosition,
  ): Promise<StepResult> {
    const filter = this.typeFilter;
    const relevant = filter ? events.filter((e) => filter.has(e.type)) : events;
    const ids = [...new Set(relevant.flatMap((e) => this.projection.documentIds(e)))];
    const before = await this.loadDocs(gen, ids);
    const after = new Map(before);
    const notifications: Array<{ topic: string; message: ChangeNotification<Doc> }> = [];

    for (const event of relevant) {
      for (const id of this.projection.documentIds(event)) {
        const doc = this.projection.evolve(after.get(id) ?? null, event, id);
        after.set(id, doc);
        for (const topic of this.projection.topics?.(id, doc, event) ?? []) {
          notifications.push({ topic, message: this.notification(id, doc, event) });
        }
      }
    }

    const tx = this.redis.multi();
    for (const id of ids) {
      const old = before.get(id) ?? null;
      const doc = after.get(id) ?? null;
      if (old === doc) continue;
      if (doc === null) tx.del(gen.doc(id));
      else tx.set(gen.doc(id), JSON.stringify(doc));
      this.diffIndexes(tx, gen, old, doc);
    }
    tx.set(gen.checkpoint, formatLogPosition(next));
    if (this.options.target.kind === "active") {
      // Published inside the transaction: subscribers hear of a change exactly
      // when it becomes visible, and an aborted (duplicate) batch says nothing.
      for (const { topic, message } of notifications) tx.publish(this.keys.topic(topic), JSON.stringify(message));
      tx.publish(this.keys.checkpointChannel, `${this.projection.name} ${generation} ${formatLogPosition(next)}`);
    }
    const result = await tx.exec();
    if (result === null) return { kind: "superseded" };
    const failed = result.find(([error]) => error);
    if (failed) throw failed[0];
    return { kind: "applied", events: events.length, checkpoint: next };
  }

  private async loadDocs(gen: GenerationKeys, ids: string[]): Promise<Map<string, Doc | null>> {
    const docs = new Map<string, Doc | null>();
    if (ids.length === 0) return docs;
    const raw = await this.redis.mget(ids.map((id) => gen.doc(id)));
    ids.forEach((id, i) => docs.set(id, raw[i] ? (JSON.parse(raw[i]!) as Doc) : null));
    return docs;
  }

  private diffIndexes(tx: ReturnType<Redis["multi"]>, gen: GenerationKeys, old: Doc | null, doc: Doc | null): void {
    if (!this.projection.indexes) return;
    const oldEntries = old ? this.projection.indexes(old) : [];
    const newEntries = doc ? this.projection.indexes(doc) : [];
    const key = (e: IndexEntry) => `${e.index}\u0000${e.member}`;
    const keep = new Set(newEntries.map(key));
    const had = new Set(oldEntries.map(key));
    for (const e of oldEntries) if (!keep.has(key(e))) tx.zrem(gen.index(e.index), e.member);
    for (const e of newEntries) if (!had.has(key(e))) tx.zadd(gen.index(e.index), 0, e.member);
  }

  private notification(id: string, doc: Doc | null, event: RecordedEvent): ChangeNotification<Doc> {
    return {
      projection: this.projection.name,
      id,
      document: doc,
      eventType: event.type,
      eventId: event.eventId,
      streamVersion: event.streamVersion,
      position: formatLogPosition(event.position),
    };
  }
}

export function parseCheckpoint(value: string | null): LogPosition {
  return (value && parseLogPosition(value)) || LOG_START;
}
