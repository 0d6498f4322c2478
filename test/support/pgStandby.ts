import { execFile } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePorts } from "./freePort";

const HOST = "127.0.0.1";
const OS_USER = "postgres";
const TIMEOUT_S = 60;

export interface ReplayLag {
  /** WAL the standby has not replayed yet, in bytes. */
  bytes: number;
  /** How old the last replayed transaction is while WAL is still waiting; 0 when caught up. */
  seconds: number;
}

/**
 * A real PostgreSQL primary and a hot standby that streams from it through a
 * replication slot, both in a temporary folder at free ports, run as the OS
 * user postgres (the tests run as root, which PostgreSQL refuses). Trust
 * auth, on 127.0.0.1 only, fsync off: the data is scratch.
 */
export class PgStandby {
  private readonly killOnExit = () => [this.primaryDir, this.standbyDir].forEach(quitSync);

  private constructor(
    readonly dir: string,
    private readonly bin: string,
    readonly primaryPort: number,
    readonly standbyPort: number,
    private readonly maxConnections: number,
  ) {
    process.once("exit", this.killOnExit);
  }

  /** `maxConnections` (default 60): a whole system of replicated roles needs more than one test does. */
  static async start(options: { maxConnections?: number } = {}): Promise<PgStandby> {
    const bin = postgresBin();
    const dir = mkdtempSync(join(tmpdir(), "eventline-pg-standby-"));
    const [primaryPort, standbyPort] = await freePorts(2);
    const standby = new PgStandby(dir, bin, primaryPort!, standbyPort!, options.maxConnections ?? 60);
    try {
      await standby.setUp();
    } catch (error) {
      await standby.stop();
      throw error;
    }
    return standby;
  }

  get primaryDir(): string {
    return join(this.dir, "primary");
  }

  get standbyDir(): string {
    return join(this.dir, "standby");
  }

  primaryUrl(database = "postgres"): string {
    return `postgres://postgres@${HOST}:${this.primaryPort}/${database}`;
  }

  standbyUrl(database = "postgres"): string {
    return `postgres://postgres@${HOST}:${this.standbyPort}/${database}`;
  }

  /** Creates a database on the primary and waits until the standby has it too. */
  async createDatabase(name: string): Promise<{ primaryUrl: string; standbyUrl: string }> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    await query(this.primaryUrl(), `CREATE DATABASE ${name}`);
    await this.waitForReplay();
    return { primaryUrl: this.primaryUrl(name), standbyUrl: this.standbyUrl(name) };
  }

  /** Stops the standby: `fast` shuts it down cleanly, `immediate` is a crash (it recovers on start). */
  async stopStandby(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await this.pgCtl(this.standbyDir, "stop", "-m", mode);
  }

  /** Starts the standby again; it resumes streaming from its slot and serves reads once consistent. */
  async startStandby(): Promise<void> {
    await this.pgCtl(this.standbyDir, "start", "-l", join(this.dir, "standby.log"));
    await this.untilInRecovery();
  }

  /** How far the standby's replay is behind the primary's WAL right now. */
  async replayLag(): Promise<ReplayLag> {
    const head = await query<{ lsn: string }>(this.primaryUrl(), "SELECT pg_current_wal_lsn()::text AS lsn");
    const lag = await query<{ bytes: string; seconds: number }>(
      this.standbyUrl(),
      `SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS bytes,
         CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
              ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 END AS seconds`,
      [head[0]!.lsn],
    );
    return { bytes: Math.max(0, Number(lag[0]!.bytes)), seconds: Number(lag[0]!.seconds) };
  }

  /** Until the standby has replayed everything the primary had written when this was called. */
  async waitForReplay(timeoutMs = TIMEOUT_S * 1000): Promise<void> {
    const [head] = await query<{ lsn: string }>(this.primaryUrl(), "SELECT pg_current_wal_lsn()::text AS lsn");
    for (const deadline = Date.now() + timeoutMs; ; await sleep(20)) {
      const [row] = await query<{ behind: boolean }>(this.standbyUrl(), "SELECT pg_last_wal_replay_lsn() < $1::pg_lsn AS behind", [head!.lsn]);
      if (row?.behind === false) return;
      if (Date.now() > deadline) throw new Error(`the standby did not replay up to ${head!.lsn} within ${timeoutMs} ms`);
    }
  }

  /** Stops both servers at once (immediate: nothing is worth a checkpoint) and removes the folder. */
  async stop(): Promise<void> {
    for (const dataDir of [this.standbyDir, this.primaryDir]) {
      if (existsSync(join(dataDir, "postmaster.pid"))) await this.pgCtl(dataDir, "stop", "-m", "immediate").catch(() => quitSync(dataDir));
    }
    process.removeListener("exit", this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async setUp(): Promise<void> {
    const { uid, gid } = await osUser();
    chownSync(this.dir, uid, gid);
    await asPostgres(join(this.bin, "initdb"), ["-D", this.primaryDir, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C"]);
    appendFileSync(
      join(this.primaryDir, "postgresql.conf"),
      [
        "", "# eventline test support",
        `port = ${this.primaryPort}`, `listen_addresses = '${HOST}'`, `unix_socket_directories = '${this.dir}'`,
        "wal_level = replica", "max_wal_senders = 10", "max_replication_slots = 10", "hot_standby = on",
        "fsync = off", "full_page_writes = off", "shared_buffers = 32MB", `max_connections = ${this.maxConnections}`, "",
      ].join("\n"),
    );
    await this.pgCtl(this.primaryDir, "start", "-l", join(this.dir, "primary.log"));
    // -R writes primary_conninfo and standby.signal; -C -S creates the slot that keeps the WAL it still needs.
    await asPostgres(join(this.bin, "pg_basebackup"), [
      "-h", HOST, "-p", String(this.primaryPort), "-U", "postgres", "-D", this.standbyDir,
      "-R", "-X", "stream", "-C", "-S", "slot1", "--checkpoint=fast",
    ]);
    appendFileSync(join(this.standbyDir, "postgresql.conf"), `\nport = ${this.standbyPort}\n`);
    await this.startStandby();
  }

  private async untilInRecovery(): Promise<void> {
    for (const deadline = Date.now() + TIMEOUT_S * 1000; ; await sleep(100)) {
      const rows = await query<{ standby: boolean }>(this.standbyUrl(), "SELECT pg_is_in_recovery() AS standby").catch(() => []);
      if (rows[0]?.standby === true) return;
      if (Date.now() > deadline) throw new Error(`the standby on ${this.standbyPort} is not serving reads in recovery: ${this.logTail("standby.log")}`);
    }
  }

  private async pgCtl(dataDir: string, action: "start" | "stop", ...args: string[]): Promise<void> {
    try {
      await asPostgres(join(this.bin, "pg_ctl"), ["-D", dataDir, "-w", "-t", String(TIMEOUT_S), action, ...args]);
    } catch (error) {
      const log = dataDir === this.primaryDir ? "primary.log" : "standby.log";
      throw new Error(`pg_ctl ${action} ${dataDir} failed: ${error instanceof Error ? error.message : String(error)}\n${this.logTail(log)}`);
    }
  }

  private logTail(file: string): string {
    try {
      return readFileSync(join(this.dir, file), "utf8").split("\n").slice(-10).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

/** The newest PostgreSQL install under /usr/lib/postgresql (PG_BIN overrides). */
function postgresBin(): string {
  const fromEnv = process.env["PG_BIN"];
  if (fromEnv) return fromEnv;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, "bin")).find((bin) => existsSync(join(bin, "initdb")));
  if (!found) throw new Error(`no PostgreSQL server binaries under ${root} (set PG_BIN to the folder with initdb and pg_ctl)`);
  return found;
}

async function osUser(): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  const [uid, gid] = await Promise.all([run("id", ["-u", OS_USER]), run("id", ["-g", OS_USER])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** As root, through runuser (PostgreSQL refuses to run as root); as anyone else, directly. */
async function asPostgres(command: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  try {
    await promisify(execFile)(asRoot ? "runuser" : command, asRoot ? ["-u", OS_USER, "--", command, ...args] : args, { timeout: (TIMEOUT_S + 10) * 1000, env: { ...process.env, LC_ALL: "C" } });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`${command} ${args.join(" ")}: ${stderr.trim() || (error instanceof Error ? error.message : String(error))}`);
  }
}

/** The exit hook cannot wait: SIGQUIT is PostgreSQL's immediate shutdown, sent by PID from postmaster.pid. */
function quitSync(dataDir: string): void {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    if (pid > 0) process.kill(pid, "SIGQUIT");
  } catch {
    // not running
  }
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
