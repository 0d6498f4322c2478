import type { FeedKeys } from "../subscriptions/topics";

/**
 * Redis layout of the read side. Every projection writes into a numbered
 * generation; the `active` pointer says which generation queries read, so a
 * rebuild can fill a new generation while the old one keeps serving.
 *
 *   {prefix}:proj:{name}:active          active generation number
 *   {prefix}:proj:{name}:status          HASH the projector publishes: head of the log, lag, rate, last error
 *   {prefix}:proj:{name}:rebuild         the rebuild lock (expires unless its holder renews it)
 *   {prefix}:proj:{name}:rebuild:progress HASH: progress of the running rebuild
 *   {prefix}:proj:{name}:skipped         LIST: parked events an operator skipped (newest first, bounded)
 *   {prefix}:rm:{name}:{gen}:checkpoint  log position applied to that generation
 *   {prefix}:rm:{name}:{gen}:fence       highest lease token that committed to that generation
 *   {prefix}:rm:{name}:{gen}:doc:{id}    JSON document
 *   {prefix}:rm:{name}:{gen}:idx:{index} sorted index (ZSET, equal scores, lex order)
 *   {prefix}:rm:{name}:{gen}:parked      HASH eventId -> parked (dead-letter) event with its error
 *   {prefix}:rm:{name}:{gen}:attempts    HASH eventId -> failed attempts of an event not yet parked
 *   {prefix}:checkpoints                 pub/sub channel: "{name} {gen} {position}"
 *   {prefix}:topic:{topic}               pub/sub channel per change topic
 *   {prefix}:changes:{name}              STREAM per projection: its published change batches, id = log position
 *                                        of the batch's end, capped (see platform/subscriptions/changeLog.ts)
 */
export class ReadModelKeys implements FeedKeys {
  constructor(readonly prefix: string) {}

  activeGeneration(projection: string): string {
    return `${this.prefix}:proj:${projection}:active`;
  }

  generation(projection: string, generation: number): GenerationKeys {
    return new GenerationKeys(`${this.generationsRoot(projection)}${generation}`);
  }

  /** What every generation key of a projection starts with; the generation number follows. */
  generationsRoot(projection: string): string {
    return `${this.prefix}:rm:${projection}:`;
  }

  status(projection: string): string {
    return `${this.prefix}:proj:${projection}:status`;
  }

  rebuildLock(projection: string): string {
    return `${this.prefix}:proj:${projection}:rebuild`;
  }

  rebuildProgress(projection: string): string {
    return `${this.prefix}:proj:${projection}:rebuild:progress`;
  }

  skipped(projection: string): string {
    return `${this.prefix}:proj:${projection}:skipped`;
  }

  get checkpointChannel(): string {
    return `${this.prefix}:checkpoints`;
  }

  topic(topic: string): string {
    return `${this.prefix}:topic:${topic}`;
  }

  /** Stream of a projection's published change batches, from which subscriptions replay (`after:`). */
  changeLog(projection: string): string {
    return `${this.prefix}:changes:${projection}`;
  }
}

export class GenerationKeys {
  constructor(readonly keyspace: string) {}

  get checkpoint(): string {
    return `${this.keyspace}:checkpoint`;
  }

  /** The highest lease (fencing) token that committed here: a lower one is refused (processing/redisCheckpointer.ts). */
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
