import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/**
 * A redis-server of the benchmark's own, on a free port, with the shared
 * server's persistence settings (no RDB, no AOF): the Redis on 6379 is shared
 * with every other test run on the machine, so its CPU time and INFO
 * commandstats cannot be attributed to one benchmark; this one's can.
 * Stopped (SIGTERM, then SIGKILL) by `stop`.
 */
export interface PrivateRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startPrivateRedis(binary = process.env.BENCH_REDIS_SERVER ?? "redis-server"): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spawned = await new Promise<boolean>((resolve) => {
    child.once("spawn", () => resolve(true));
    child.once("error", () => resolve(false));
  });
  if (!spawned || child.pid === undefined) throw new Error(`cannot start ${binary} (set BENCH_REDIS_SERVER to its path)`);
  const url = `redis://127.0.0.1:${port}`;
  // A benchmark interrupted (SIGINT ends in process.exit) must not leave its server behind.
  const orphanGuard = () => child.kill("SIGKILL");
  process.once("exit", orphanGuard);
  const stop = async () => {
    process.off("exit", orphanGuard);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at start:\n${output}`);
      try {
        if (probe.status !== "ready") await probe.connect();
        if ((await probe.ping()) === "PONG") break;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${url} within 10 s:\n${output}`);
      }
    }
  } catch (error) {
    probe.disconnect();
    await stop();
    throw error;
  }
  probe.disconnect();
  return { url, pid: child.pid, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Calls per command from INFO commandstats (commands run inside scripts included), for deltas. */
export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const m of (await redis.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(m[1]!, Number(m[2]));
  return stats;
}

/** Commands run between two commandStats readings, most frequent first. */
export function commandDelta(before: Map<string, number>, after: Map<string, number>): Array<[string, number]> {
  return [...after].map(([name, calls]): [string, number] => [name, calls - (before.get(name) ?? 0)]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
}
