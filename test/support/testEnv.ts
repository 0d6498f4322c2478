import { randomBytes } from "node:crypto";
import type { Pool } from "pg";
import { Redis } from "ioredis";
import { migrate } from "../../src/platform/eventstore/migrations";
import type { EventRegistry } from "../../src/platform/eventstore/eventRegistry";
import { EventStore } from "../../src/platform/eventstore/eventStore";
import { createPool } from "../../src/platform/eventstore/pool";
import type { RedisClient } from "../../src/platform/core/redis";
import { unlinkMatching } from "../../src/platform/core/redisScan";

/** Server-level URL used to create and drop per-test databases. */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";

export interface TestDatabase {
  url: string;
  pool: Pool;
  store: EventStore;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own for one test file; `drop` removes it. With a registry, `store` validates and upcasts.
 * `adminUrl` puts it on another server than the shared one (e.g. a PgStandby's primary).
 */
export async function createTestDatabase(options: { registry?: EventRegistry; adminUrl?: string } = {}): Promise<TestDatabase> {
  const name = `eventline_test_${randomBytes(6).toString("hex")}`;
  const adminUrl = options.adminUrl ?? ADMIN_DATABASE_URL;
  const admin = createPool(adminUrl, { max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = withDatabase(adminUrl, name);
  const pool = createPool(url, { max: 20 });
  await migrate(pool);
  return {
    url,
    pool,
    store: new EventStore(pool, options),
    async drop() {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A key prefix no other run shares; every key a test writes lives under it. */
export function testPrefix(): string {
  return `evtest:${randomBytes(6).toString("hex")}`;
}

/** Deletes every key under `prefix` (never a whole-server flush: the Redis is shared). */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  await unlinkMatching(redis, `${prefix}:*`);
}

export function testRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
}

/**
 * Waits until every committed event of `db` is readable by the log reader.
 * Transactions of other test databases on the same server hold the snapshot
 * horizon back for a moment; the reader delays, never skips.
 */
export async function waitForLogVisible(db: TestDatabase, timeoutMs = 20_000): Promise<void> {
  const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM events");
  const deadline = Date.now() + timeoutMs;
  while ((await db.store.readAll(undefined, 1_000_000)).events.length < rows[0].n) {
    if (Date.now() > deadline) throw new Error("the log reader did not catch up");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Resolves once the server has subscribed to a Redis channel: the API
 * subscribes asynchronously after a GraphQL subscription starts, and a change
 * published before that would not reach it.
 */
export async function untilSubscribed(redis: Redis, prefix: string, topic: string, timeoutMs = 15_000): Promise<void> {
  // The topic's channel lives under the hash tag of the projection that publishes it, whichever that is.
  const channel = `${prefix}:{*}:topic:${topic}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const channels = (await redis.pubsub("CHANNELS", channel)).map(String);
    const counts = channels.length ? ((await redis.pubsub("NUMSUB", ...channels)) as Array<string | number>) : [];
    if (counts.some((value, i) => i % 2 === 1 && Number(value) > 0)) return;
    if (Date.now() > deadline) throw new Error(`the server never subscribed to ${channel}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
