import { Client } from "pg";
import type { Redis } from "ioredis";
import { cpuMsOf } from "./procCpu";

/**
 * CPU time (ms, user + system, from /proc/<pid>/stat) that every process
 * doing a measurement's work spent during it: the role processes, this
 * process where it does the work itself, the PostgreSQL backends serving the
 * bench database and the Redis server. Throughput on two shared cores
 * measures the other tenants as much as the code; CPU per operation does not.
 *
 * PostgreSQL backends come and go with the pools (idle ones are closed), so
 * they are polled during the window from pg_stat_activity: a backend that
 * starts inside the window counts from zero, one that exits counts up to its
 * last sample (at most one poll period is lost). The poller's own backend is
 * left out. PostgreSQL's shared background processes (WAL writer,
 * checkpointer) serve every database on the server and are not counted.
 */
export interface CpuSplit {
  /** Sum of the parts, ms. */
  total: number;
  /** ms per source, e.g. { roles: 812, postgres: 390, redis: 120 }. */
  parts: Record<string, number>;
}

export interface CpuSource {
  name: string;
  /** Begins a window; the returned function ends it and gives the ms spent in between. */
  begin(): Promise<() => Promise<number>>;
}

/** Processes by pid, read again at each end of the window (a role restarted in between counts from its start). */
export function processes(name: string, pids: () => ReadonlyArray<number | undefined>): CpuSource {
  return {
    name,
    async begin() {
      const before = new Map(pids().map((pid) => [pid, cpuMsOf([pid])]));
      return async () => pids().reduce<number>((sum, pid) => sum + cpuMsOf([pid]) - (before.get(pid) ?? 0), 0);
    },
  };
}

/** This process: the load generator, or the system under test where a baseline runs in process. */
export function thisProcess(name = "bench"): CpuSource {
  return processes(name, () => [process.pid]);
}

/** The Redis server (its pid from INFO server): only meaningful for a Redis the benchmark has to itself (privateRedis.ts). */
export async function redisServer(redis: Redis, name = "redis"): Promise<CpuSource> {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error("INFO server did not name Redis's process_id");
  return processes(name, () => [pid]);
}

const POLL_MS = 200;

/** The PostgreSQL backends connected to the database of `url`, polled from pg_stat_activity. */
export function postgresBackends(url: string, name = "postgres"): CpuSource {
  return {
    name,
    async begin() {
      const client = new Client({ connectionString: url });
      client.on("error", () => undefined);
      await client.connect();
      const windowStart = Date.now();
      const seen = new Map<number, { first: number; last: number }>();
      const poll = async () => {
        const { rows } = await client.query<{ pid: number; started: Date }>(
          "SELECT pid, backend_start AS started FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
        for (const { pid, started } of rows) {
          const now = cpuMsOf([pid]);
          const known = seen.get(pid);
          if (known) known.last = Math.max(known.last, now);
          else seen.set(pid, { first: started.getTime() >= windowStart ? 0 : now, last: now });
        }
      };
      await poll();
      let polling: Promise<void> = Promise.resolve();
      const timer = setInterval(() => {
        polling = polling.then(poll).catch(() => undefined);
      }, POLL_MS);
      return async () => {
        clearInterval(timer);
        await polling;
        await poll().catch(() => undefined);
        await client.end().catch(() => undefined);
        let total = 0;
        for (const { first, last } of seen.values()) total += last - first;
        return total;
      };
    },
  };
}

/** Runs `work` and measures what every source spent on it. */
export async function withCpu<T>(sources: readonly CpuSource[], work: () => Promise<T>): Promise<{ value: T; cpu: CpuSplit }> {
  const ends = await Promise.all(sources.map((s) => s.begin()));
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await Promise.all(ends.map((end) => end().catch(() => 0)));
    throw error;
  }
  const spent = await Promise.all(ends.map((end) => end()));
  const parts: Record<string, number> = {};
  sources.forEach((s, i) => (parts[s.name] = (parts[s.name] ?? 0) + spent[i]!));
  return { value, cpu: { total: Object.values(parts).reduce((a, b) => a + b, 0), parts } };
}
