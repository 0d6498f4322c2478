import { execFile } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { errorMessage } from "../core/errors";
import { ensureOsUser, planEmbedded, type OsUser } from "./embeddedPlan";
import { startEmbeddedPostgres, type StartedService } from "./embeddedPostgres";
import { findOnPath, startEmbeddedRedis } from "./embeddedRedis";

/**
 * Zero-configuration infrastructure for `npm start`: explicit URLs win, and
 * only what is missing gets started locally (containers set both URLs, so
 * nothing is started there). The servers run in their own process group, so
 * a terminal's Ctrl-C leaves them to the caller, which must call stop() once
 * its roles have drained.
 */
export interface DevInfra {
  databaseUrl: string;
  redisUrl: string;
  /** human lines describing what was connected/started */
  notes: string[];
  stop(): Promise<void>;
}

export interface DevInfraOptions {
  databaseUrl?: string | undefined;
  redisUrl?: string | undefined;
  /** EVENTLINE_DATA_DIR as set (undefined: the default for this user, see planEmbedded) */
  dataDir: string | undefined;
  /** the project directory */
  cwd: string;
  /** EVENTLINE_OS_USER: who the servers run as when started by root */
  osUser: string;
  pgPort: number;
  redisPort: number;
  /** progress while starting (slow first-run steps); `notes` is the summary */
  log: (line: string) => void;
}

export class InfraError extends Error {
  readonly code = "INFRA_UNAVAILABLE";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InfraError";
  }
}

export async function ensureDevInfra(options: DevInfraOptions): Promise<DevInfra> {
  const started: StartedService[] = [];
  const stop = async (): Promise<void> => {
    for (const service of started.splice(0).reverse()) {
      try {
        await service.stop();
      } catch (error) {
        options.log(`could not stop a local service cleanly: ${errorMessage(error)}`);
      }
    }
  };

  try {
    const local = lazyLocal(options);
    const database = await connectPostgres(options, local);
    started.push(database);
    const redis = await connectRedis(options, local);
    started.push(redis);
    return { databaseUrl: database.url, redisUrl: redis.url, notes: [database.note, redis.note], stop };
  } catch (error) {
    await stop();
    if (error instanceof InfraError) throw error;
    throw new InfraError(
      `Could not prepare the local servers: ${oneLine(error)}. Fix: set DATABASE_URL and REDIS_URL to use existing servers.`,
      { cause: error },
    );
  }
}

interface Local {
  dataRoot: string;
  runAs: OsUser | null;
}

/** Data root and OS user, settled once and only if a server is to be started. */
function lazyLocal(options: DevInfraOptions): () => Promise<Local> {
  let settled: Promise<Local> | null = null;
  return () => (settled ??= prepareLocal(options));
}

async function prepareLocal(options: DevInfraOptions): Promise<Local> {
  const plan = planEmbedded({ uid: process.getuid?.(), cwd: options.cwd, dataDir: options.dataDir, osUser: options.osUser });
  let runAs: OsUser | null = null;
  try {
    if (plan.runAs) runAs = await ensureOsUser(plan.runAs);
  } catch (error) {
    throw new InfraError(`${errorMessage(error)}, or set DATABASE_URL and REDIS_URL to use existing servers.`, { cause: error });
  }
  if (runAs?.created) options.log(`created system user '${runAs.name}' (uid ${runAs.uid}) to run the embedded servers as (root may not run PostgreSQL)`);
  await mkdir(plan.dataRoot, { recursive: true });
  if (runAs) {
    // Root's data root is root's; the servers' own directories inside it are theirs.
    await chmod(plan.dataRoot, 0o755);
    await writeFile(path.join(plan.dataRoot, "PROJECT"), `${path.resolve(options.cwd)}\n`);
    if (!(await canReach(plan.dataRoot, runAs))) {
      throw new InfraError(
        `OS user '${runAs.name}' cannot reach ${plan.dataRoot} (a parent directory is private). ` +
          "Fix: unset EVENTLINE_DATA_DIR (as root, data then goes to /var/lib/eventline/<hash>) or point it at a directory that user can reach.",
      );
    }
  }
  return { dataRoot: plan.dataRoot, runAs };
}

/** Whether `user` can traverse to `dir`; asked as that user, since ACLs and groups decide. */
function canReach(dir: string, user: OsUser): Promise<boolean> {
  return new Promise((resolve) => {
    execFile("test", ["-x", dir], { uid: user.uid, gid: user.gid }, (error) => resolve(error === null));
  });
}

async function connectPostgres(options: DevInfraOptions, local: () => Promise<Local>): Promise<StartedService> {
  const given = options.databaseUrl?.trim();
  if (given) return { url: given, note: `PostgreSQL: DATABASE_URL (${location(given)})`, stop: async () => {} };
  const { dataRoot, runAs } = await local();
  try {
    return await startEmbeddedPostgres({ dataRoot, port: options.pgPort, runAs, log: options.log });
  } catch (error) {
    throw new InfraError(
      `Could not start embedded PostgreSQL: ${oneLine(error)}. ` +
        `Fix: ${postgresHint(oneLine(error), path.join(dataRoot, "postgres"))}or set DATABASE_URL=postgres://user:password@host:5432/eventline to use an existing PostgreSQL.`,
      { cause: error },
    );
  }
}

async function connectRedis(options: DevInfraOptions, local: () => Promise<Local>): Promise<StartedService> {
  const given = options.redisUrl?.trim();
  if (given) return { url: given, note: `Redis: REDIS_URL (${location(given)})`, stop: async () => {} };
  const binary = findOnPath("redis-server");
  if (binary === undefined) {
    throw new InfraError(
      "No Redis available: REDIS_URL is not set and redis-server is not on PATH. " +
        "Fix: set REDIS_URL=redis://host:port to use an existing Redis, " +
        "or install redis-server (e.g. `apt-get install redis-server`, `brew install redis`) so it can be started automatically.",
    );
  }
  const { dataRoot, runAs } = await local();
  try {
    return await startEmbeddedRedis({ binary, dataRoot, port: options.redisPort, runAs, log: options.log });
  } catch (error) {
    const said = oneLine(error);
    const denied = runAs && /EACCES/.test(said) ? `make ${binary} executable by '${runAs.name}', or ` : "";
    const taken = /in use|Address already in use/i.test(said) ? "set EVENTLINE_REDIS_PORT to a free port, or " : "";
    throw new InfraError(
      `Could not start ${binary} with data in ${path.join(dataRoot, "redis")}: ${said}. ` +
        `Fix: ${denied}${taken}set REDIS_URL=redis://host:port to use an existing Redis instead.`,
      { cause: error },
    );
  }
}

function oneLine(error: unknown): string {
  return errorMessage(error).replace(/\s*\n\s*/g, " | ").replace(/\.+$/, "");
}

/** The fix for the failures a user can act on; ends with ", " when there is one. */
function postgresHint(said: string, dir: string): string {
  if (/in use/.test(said)) return "set EVENTLINE_PG_PORT to a free port, ";
  if (/lock file .* already exists/.test(said)) return `if no postgres runs on ${dir}, remove ${dir}/postmaster.pid; `;
  if (/exists but is not empty/.test(said)) return `an interrupted first start left ${dir} half made: remove it; `;
  if (/not installed/.test(said)) return "run npm install, ";
  if (/EACCES|permission denied/i.test(said)) return `check that the server's user can reach ${dir} and the binaries, `;
  return `see ${path.join(path.dirname(dir), "postgres.log")}, `;
}

/** host:port/path of a connection URL, so credentials never reach a log. */
function location(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "unparsable URL";
  }
}
