import { ValidationError } from "../core/errors";
import type { FeedKeys } from "../subscriptions/topics";

/**
 * Redis layout of the read side. Every key of one projection segment shares
 * ONE hash tag, so every multi-key step (a batch's commit, the rebuild
 * switch, the lock scripts, an MGET of documents) stays in one slot of a
 * Redis Cluster (decision 0024). The tag is `{<name>}` for a projection of one
 * segment (the default) and `{<name>#<s>}` for segment s of K > 1.
 *
 *   {prefix}:{tag}:active             active generation number
 *   {prefix}:{tag}:status             HASH the projector publishes: head of the log, lag, rate, last error
 *   {prefix}:{tag}:rebuild            the rebuild lock (expires unless its holder renews it)
 *   {prefix}:{tag}:rebuild:progress   HASH: progress of the running rebuild
 *   {prefix}:{tag}:skipped            LIST: parked events an operator skipped (newest first, bounded)
 *   {prefix}:{tag}:changes            STREAM: published change batches, id = log position of the batch's end,
 *                                     capped (see platform/subscriptions/changeLog.ts)
 *   {prefix}:{tag}:checkpoints        pub/sub channel: "{name} {gen} {position}" after each commit and switch
 *   {prefix}:{tag}:topic:{topic}      pub/sub channel per change topic
 *   {prefix}:{tag}:{gen}:checkpoint   log position applied to that generation
 *   {prefix}:{tag}:{gen}:fence        fencing token of the last commit to that generation
 *   {prefix}:{tag}:{gen}:doc:{id}     JSON document
 *   {prefix}:{tag}:{gen}:idx:{index}  sorted index (ZSET, equal scores, lex order)
 *   {prefix}:{tag}:{gen}:parked       HASH eventId -> parked (dead-letter) event with its error
 *   {prefix}:{tag}:{gen}:attempts     HASH eventId -> failed attempts of an event not yet parked
 *
 * Channels are tagged like keys: on a cluster they are sharded channels, and
 * a commit script may publish to them from the projection's own slot.
 */
export class ReadModelKeys implements FeedKeys {
  constructor(readonly prefix: string) {}

  /** The keys of one projection segment (segment 0 of 1 unless the projection is segmented). */
  projection(name: string, segment = 0, segments = 1): ProjectionKeys {
    return new ProjectionKeys(this.prefix, name, segment, segments);
  }

  // Per-name shorthands for segment 0 of a projection of one segment.

  activeGeneration(projection: string): string {
    return this.projection(projection).activeGeneration();
  }

  generation(projection: string, generation: number): GenerationKeys {
    return this.projection(projection).generation(generation);
  }

  generationsRoot(projection: string): string {
    return this.projection(projection).generationsRoot();
  }

  status(projection: string): string {
    return this.projection(projection).status();
  }

  rebuildLock(projection: string): string {
    return this.projection(projection).rebuildLock();
  }

  rebuildProgress(projection: string): string {
    return this.projection(projection).rebuildProgress();
  }

  skipped(projection: string): string {
    return this.projection(projection).skipped();
  }

  checkpointChannel(projection: string): string {
    return this.projection(projection).checkpointChannel();
  }

  topic(projection: string, topic: string): string {
    return this.projection(projection).topic(topic);
  }

  changeLog(projection: string): string {
    return this.projection(projection).changeLog();
  }
}

/** Projection names become part of a hash tag: braces (and the segment mark) would break it. */
const PROJECTION_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

export class ProjectionKeys {
  /** The hash tag every key of this segment carries, braces included. */
  readonly tag: string;
  private readonly root: string;

  constructor(
    prefix: string,
    readonly name: string,
    readonly segment = 0,
    readonly segments = 1,
  ) {
    if (!PROJECTION_NAME.test(name)) throw new ValidationError("projection name", name, "1 to 100 of A-Z a-z 0-9 _ . : -");
    if (!Number.isInteger(segments) || segments < 1) throw new ValidationError("segments", segments, "an integer of at least 1");
    if (!Number.isInteger(segment) || segment < 0 || segment >= segments) throw new ValidationError("segment", segment, `an integer from 0 to ${segments - 1}`);
    this.tag = segments === 1 ? `{${name}}` : `{${name}#${segment}}`;
    this.root = `${prefix}:${this.tag}`;
  }

  activeGeneration(): string {
    return `${this.root}:active`;
  }

  status(): string {
    return `${this.root}:status`;
  }

  rebuildLock(): string {
    return `${this.root}:rebuild`;
  }

  rebuildProgress(): string {
    return `${this.root}:rebuild:progress`;
  }

  skipped(): string {
    return `${this.root}:skipped`;
  }

  /** Stream of the segment's published change batches, from which subscriptions replay (`after:`). */
  changeLog(): string {
    return `${this.root}:changes`;
  }

  /** Pub/sub channel of the checkpoints this segment commits and the generations a rebuild switches to. */
  checkpointChannel(): string {
    return `${this.root}:checkpoints`;
  }

  topic(topic: string): string {
    return `${this.root}:topic:${topic}`;
  }

  generation(generation: number): GenerationKeys {
    return new GenerationKeys(`${this.generationsRoot()}${generation}`);
  }

  /** What every generation key starts with; the generation number follows (other keys of the tag follow it with a name). */
  generationsRoot(): string {
    return `${this.root}:`;
  }

  /** The generation a key under generationsRoot() belongs to, or null for the segment's other keys. */
  generationOf(key: string): number | null {
    const root = this.generationsRoot();
    if (!key.startsWith(root)) return null;
    const head = key.slice(root.length).split(":", 1)[0] ?? "";
    return /^\d+$/.test(head) ? Number(head) : null;
  }
}

export class GenerationKeys {
  constructor(readonly keyspace: string) {}

  get checkpoint(): string {
    return `${this.keyspace}:checkpoint`;
  }

  /** Fencing token of the last commit (see processing/redisCheckpointer.ts). */
  get fence(): string {
    return `${this.keyspace}:fence`;
  }

  doc(id: string): string {
    return `${this.keyspace}:doc:${id}`;
  }

  index(index: string): string {
    return `${this.keyspace}:idx:${index}`;
  }

  get parked(): string {
    return `${this.keyspace}:parked`;
  }

  get attempts(): string {
    return `${this.keyspace}:attempts`;
  }

  /** Glob matching every key of this generation, for cleanup. */
  get pattern(): string {
    return `${this.keyspace}:*`;
  }
}

export const FIRST_GENERATION = 1;

export function parseGeneration(value: string | null): number {
  const n = value === null ? NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : FIRST_GENERATION;
}
