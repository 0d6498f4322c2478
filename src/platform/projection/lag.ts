import type { RedisClient } from "../core/redis";
import type { Queryable } from "../eventstore/eventStore";
import type { LogPosition } from "../eventstore/logPosition";
import { parseGeneration, type ReadModelKeys } from "./keys";
import { readPostgresCheckpoint } from "../processing/postgresCheckpointer";
import { parseCheckpoint } from "../processing/redisCheckpointer";

export interface Lag {
  /** Events in the log after the checkpoint (counted up to LAG_COUNT_CAP). */
  events: number;
  /** Age of the oldest event not yet applied; 0 when caught up. */
  seconds: number;
}

/** Counting stops here: past it the number only says "very far behind", and the scrape must stay cheap. */
export const LAG_COUNT_CAP = 100_000;

/**
 * How far a checkpoint is behind the head of the log in PostgreSQL. Walks the
 * commit-order index from the checkpoint, so it costs what the lag is, bounded.
 */
export async function lagBehind(db: Queryable, checkpoint: LogPosition): Promise<Lag> {
  const { rows } = await db.query<{ events: string; oldest: string | null }>(
    `SELECT count(*)::text AS events, min((metadata->>'recordedAt')::timestamptz)::text AS oldest FROM (
       SELECT metadata FROM events
       WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
       ORDER BY transaction_id, global_position LIMIT ${LAG_COUNT_CAP}) AS behind`,
    [checkpoint.transactionId.toString(), checkpoint.globalPosition.toString()],
  );
  const row = rows[0];
  const oldest = row?.oldest ? Date.parse(row.oldest) : NaN;
  return { events: Number(row?.events ?? 0), seconds: Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000) };
}

/** Lag of a projection's active generation: its checkpoint in Redis against the log head in PostgreSQL. */
export async function projectionLag(db: Queryable, redis: RedisClient, keys: ReadModelKeys, projection: string): Promise<Lag> {
  const generation = parseGeneration(await redis.get(keys.activeGeneration(projection)));
  const checkpoint = parseCheckpoint(await redis.get(keys.generation(projection, generation).checkpoint));
  return lagBehind(db, checkpoint);
}

/** Lag of a log subscription (saga starter, reactors): its checkpoint is in PostgreSQL, next to the log. */
export async function subscriptionLag(db: Queryable, name: string): Promise<Lag> {
  return lagBehind(db, (await readPostgresCheckpoint(db, name)) ?? { transactionId: 0n, globalPosition: 0n });
}
