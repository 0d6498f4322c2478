import { accessSync, constants, statSync } from "node:fs";
import { chmod, chown, mkdir } from "node:fs/promises";
import path from "node:path";
import type { OsUser } from "./embeddedPlan";
import type { StartedService } from "./embeddedPostgres";
import { redisCommands } from "./redisProbe";
import { logTail, ownerAlive, spawnServer, stopByPid, writeOwner } from "./serverProcess";

const READY_TIMEOUT_MS = 30_000; // an AOF replay of a busy day takes a few seconds
const STOP = { stopSignal: "SIGTERM", hardSignal: "SIGKILL", stopTimeoutMs: 10_000 } as const;

export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export function embeddedRedisUrl(port: number): string {
  return `redis://127.0.0.1:${port}`;
}

export interface EmbeddedRedisOptions {
  binary: string;
  dataRoot: string;
  port: number;
  /**
   * As root, redis-server runs as this user too: an unauthenticated Redis
   * running as root lets any local user write files as root (CONFIG SET dir).
   */
  runAs: OsUser | null;
  log: (line: string) => void;
}

/**
 * Runs redis-server with its append-only file in `<dataRoot>/redis`, logging
 * to `<dataRoot>/redis.log`. As with PostgreSQL, a server of this directory
 * whose owner runs is reused, and one a killed run left is stopped by PID
 * (INFO tells it) and started again.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<StartedService> {
  const { binary, dataRoot, port, runAs, log } = options;
  const url = embeddedRedisUrl(port);
  const dir = path.join(dataRoot, "redis");
  const ownerFile = path.join(dataRoot, "redis.owner");
  const logFile = path.join(dataRoot, "redis.log");

  const found = await inspect(port);
  if (found !== null) {
    if (found.dir !== dir) throw new Error(`port ${port} is in use by another Redis (data in ${found.dir})`);
    if (await ownerAlive(ownerFile)) {
      return { url, note: `Redis: already running on port ${port} for another start (reused), data in ${dir}, ${url}`, stop: async () => {} };
    }
    log(`Redis: stopping the server (pid ${found.pid}) a killed run left in ${dir}`);
    await stopByPid(found.pid, STOP);
  }

  await mkdir(dir, { recursive: true });
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  await chmod(dir, 0o700);
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dir, "--daemonize", "no"];
  const server = await spawnServer({ command: binary, args, logFile, runAs: runAs ? { uid: runAs.uid, gid: runAs.gid } : undefined, ...STOP });
  try {
    await writeOwner(ownerFile);
    for (const deadline = Date.now() + READY_TIMEOUT_MS; (await inspect(port))?.dir !== dir; await new Promise((r) => setTimeout(r, 100))) {
      if (server.exited()) throw new Error(`redis-server exited during startup: ${await logTail(logFile)}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer within ${READY_TIMEOUT_MS / 1000}s (see ${logFile})`);
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, note: `Redis: started ${binary} (pid ${server.pid}), data in ${dir}, log in ${logFile}, ${url}`, stop: server.stop };
}

/** The Redis answering on `port`, if any: its PID and data directory; null while none (or it is still loading). */
async function inspect(port: number): Promise<{ pid: number; dir: string } | null> {
  try {
    const [pong, info, dir] = await redisCommands(port, [["PING"], ["INFO", "server"], ["CONFIG", "GET", "dir"]]);
    // LOADING (AOF replay) answers with an error, which just means "not yet".
    if (pong !== "PONG" || typeof info !== "string" || !Array.isArray(dir)) return null;
    return { pid: Number.parseInt(/process_id:(\d+)/.exec(info)?.[1] ?? "", 10), dir: String(dir[1] ?? "") };
  } catch {
    return null;
  }
}
