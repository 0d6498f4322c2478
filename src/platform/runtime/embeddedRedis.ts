import { spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import Redis from "ioredis";
import type { StartedService } from "./embeddedPostgres";

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

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

/**
 * Runs redis-server as a child of this process. A redis already answering on
 * the port (another role, or a leftover from a killed run) is reused and left
 * running on stop().
 */
export async function startEmbeddedRedis(binary: string, dataDir: string, port: number): Promise<StartedService> {
  const url = `redis://127.0.0.1:${port}`;
  const shownDir = path.join(dataDir, "redis");
  if (await answersPing(port)) {
    return { url, note: `Redis: already running on 127.0.0.1:${port} (reused)`, stop: async () => {} };
  }

  const dir = path.resolve(shownDir);
  await mkdir(dir, { recursive: true });
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dir, "--daemonize", "no"];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  // Kept only to explain a failed start; the pipes must be drained regardless.
  const output: string[] = [];
  const remember = (chunk: Buffer | string): void => {
    output.push(...String(chunk).split("\n").filter(Boolean));
    output.splice(0, Math.max(0, output.length - 10));
  };
  child.stdout.on("data", remember);
  child.stderr.on("data", remember);
  child.on("error", (error) => remember(error.message));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  // A synchronous kill is all an 'exit' listener can do; it keeps a crashed
  // or process.exit()-ed app from leaving redis holding the port.
  const killOnExit = (): void => void child.kill("SIGTERM");
  process.once("exit", killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener("exit", killOnExit);
    if (exited() || child.pid === undefined) return;
    const gone = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (exited() || child.pid === undefined || Date.now() > deadline) {
      await stop();
      const why = exited() || child.pid === undefined ? "redis-server exited" : `no PING reply within ${READY_TIMEOUT_MS / 1000}s`;
      throw new Error(`${why}${output.length ? `; it said: ${output.join(" | ")}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, note: `Redis: started ${binary} (pid ${child.pid}), data in ${shownDir}, ${url}`, stop };
}

async function answersPing(port: number): Promise<boolean> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    // LOADING (AOF replay) rejects here, which just means "not yet".
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
