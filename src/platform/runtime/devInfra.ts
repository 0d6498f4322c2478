import { errorMessage } from "../errors";
import { startEmbeddedPostgres, type StartedService } from "./embeddedPostgres";
import { findOnPath, startEmbeddedRedis } from "./embeddedRedis";

/**
 * Zero-configuration infrastructure for `npm start`: explicit URLs win, and
 * only what is missing gets started locally (containers set both URLs, so
 * nothing is started there). The caller must handle SIGINT/SIGTERM and call
 * stop(): a process killed without it leaves the servers running, and the
 * next start reuses them.
 */
export interface DevInfra {
  databaseUrl: string;
  redisUrl: string;
  /** human lines describing what was connected/started */
  notes: string[];
  stop(): Promise<void>;
}

export interface DevInfraOptions {
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  /** progress while starting (slow first-run steps); `notes` is the summary */
  log: (line: string) => void;
  embeddedPostgresPort?: number;
  embeddedRedisPort?: number;
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
    const database = await connectPostgres(options);
    started.push(database);
    const redis = await connectRedis(options);
    started.push(redis);
    return { databaseUrl: database.url, redisUrl: redis.url, notes: [database.note, redis.note], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function connectPostgres(options: DevInfraOptions): Promise<StartedService> {
  const given = options.databaseUrl?.trim();
  if (given) return { url: given, note: `PostgreSQL: DATABASE_URL (${location(given)})`, stop: async () => {} };
  try {
    return await startEmbeddedPostgres(options.dataDir, options.embeddedPostgresPort ?? 54329, options.log);
  } catch (error) {
    throw new InfraError(
      `Could not start embedded PostgreSQL: ${errorMessage(error).replace(/\.+$/, "")}. ` +
        "Fix: set DATABASE_URL=postgres://user:password@host:5432/eventline to use an existing PostgreSQL instead.",
      { cause: error },
    );
  }
}

async function connectRedis(options: DevInfraOptions): Promise<StartedService> {
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
  try {
    return await startEmbeddedRedis(binary, options.dataDir, options.embeddedRedisPort ?? 63790);
  } catch (error) {
    throw new InfraError(
      `Could not start ${binary} with data in ${options.dataDir}/redis: ${errorMessage(error)}. ` +
        "Fix: set REDIS_URL=redis://host:port to use an existing Redis instead.",
      { cause: error },
    );
  }
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
