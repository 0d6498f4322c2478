import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Pool } from "pg";
import type { Redis } from "ioredis";
import { EventStore } from "../../src/platform/eventstore/eventStore";
import { createPool } from "../../src/platform/eventstore/pool";
import { eventRegistry } from "../../src/registry";
import { startSystem, type RunningSystem } from "../../test/support/system";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, type TestDatabase } from "../../test/support/testEnv";

/**
 * Benchmarks use the same isolation as the tests: a database of their own
 * (dropped afterwards) and a Redis key prefix of their own (deleted key by
 * key, never a whole-server flush: the servers are shared). Whatever is still open when
 * the process is interrupted is cleaned up by `cleanupAll`.
 */
const open = new Set<() => Promise<unknown>>();

function track<T>(cleanup: () => Promise<unknown>, value: T): T & { release(): Promise<void> } {
  let done: Promise<void> | null = null;
  const release = () => {
    done ??= (async () => {
      open.delete(release);
      await cleanup();
    })();
    return done;
  };
  open.add(release);
  return Object.assign(value as object, { release }) as T & { release(): Promise<void> };
}

/** Runs every cleanup still pending (on SIGINT, or after a failure). */
export async function cleanupAll(): Promise<void> {
  for (const release of [...open]) await release().catch((e: unknown) => console.error("cleanup failed:", e));
}

export interface BenchDatabase extends TestDatabase {
  /** Sized for the benchmark's concurrency; `store` uses it. */
  pool: Pool;
  release(): Promise<void>;
}


/** A fresh, migrated database whose pool has room for `connections` concurrent queries; `store` validates and upcasts with the registry's events, so that benchmarks pay for it as the system does. */
export async function benchDatabase(connections = 20): Promise<BenchDatabase> {
  const db = await createTestDatabase();
  // Idle connections stay open: a case at concurrency 32 after a long one at 1 must not pay for 31 connects.
  const pool = createPool(db.url, { max: connections, idleTimeoutMillis: 0 });
  const wide: TestDatabase = { ...db, pool, store: new EventStore(pool, { registry: eventRegistry }) };
  return track(async () => {
    await pool.end();
    await db.drop();
  }, wide);
}

export interface BenchRedis {
  redis: Redis;
  prefix: string;
  release(): Promise<void>;
}

export function benchRedis(): BenchRedis {
  const redis = testRedis();
  const prefix = testPrefix();
  return track(
    async () => {
      await deleteKeys(redis, prefix);
      await redis.quit();
    },
    { redis, prefix },
  );
}

let profileDir: string | null = null;

/** `--profile`: every role process started from now on writes a V8 CPU profile (.cpuprofile) into `dir` when it exits. */
export function profileRolesInto(dir: string): void {
  mkdirSync(dir, { recursive: true });
  profileDir = dir;
}

/** Roles as real processes (test/support/system.ts); shut down and cleaned up on release. */
export async function benchSystem(
  roles: string[],
  env: Record<string, string> = {},
): Promise<RunningSystem & { release(): Promise<void> }> {
  const hook = resolve(__dirname, "cpuProfileHook.js");
  const profiling: Record<string, string> = profileDir
    ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${hook}`.trim(), BENCH_PROFILE_DIR: profileDir }
    : {};
  const system = await startSystem(roles, { ...profiling, ...env });
  return track(async () => {
    const codes = await system.shutdown();
    if (codes.some((c) => c !== 0)) console.error(`a role exited with ${codes.join(", ")}`);
  }, system);
}
