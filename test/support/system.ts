import { Redis } from "ioredis";
import { spawnRole, type RoleProcess } from "./processes";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase } from "./testEnv";

export interface RunningSystem {
  url: string;
  db: TestDatabase;
  redis: Redis;
  prefix: string;
  env: Record<string, string>;
  role(name: string): RoleProcess;
  /**
   * Starts (or restarts) a role as its own process and waits until it is ready.
   * `role#label` starts another replica of `role`, kept under that name (e.g. `api#2`).
   */
  start(name: string): Promise<RoleProcess>;
  /** The GraphQL URL a started `api` or `all` process (any replica, by name) printed. */
  urlOf(name: string): string;
  stop(name: string, signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops every role gracefully, checks they exit 0, and removes the database and keys. */
  shutdown(): Promise<Array<number | null>>;
}

/** Generous: on a loaded 2-core machine a role with its libraries can take well over 20 s to load. */
const READY_TIMEOUT_MS = 90_000;

/**
 * Every role as its own child process, against a database and key prefix of its own.
 * `extraEnv` may be a function of the base environment, e.g. to route DATABASE_URL through a fault proxy.
 */
export async function startSystem(
  roles: string[],
  extraEnv: Record<string, string> | ((base: Record<string, string>) => Record<string, string>) = {},
): Promise<RunningSystem> {
  const db = await createTestDatabase();
  // A run may bring its own Redis (the chaos suite restarts and wipes one); a function routes
  // the roles through a proxy while the test itself keeps a direct connection.
  const ownRedis = typeof extraEnv === "function" ? undefined : extraEnv.REDIS_URL;
  const redis = ownRedis ? new Redis(ownRedis, { maxRetriesPerRequest: null }) : testRedis();
  redis.on("error", () => undefined); // it reconnects by itself when its Redis restarts
  const prefix = testPrefix();
  const base = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, EVENTLINE_PREFIX: prefix, PORT: "0" };
  const env = { ...base, ...(typeof extraEnv === "function" ? extraEnv(base) : extraEnv) };
  const processes = new Map<string, RoleProcess>();
  const urls = new Map<string, string>();
  let url = "";

  const system: RunningSystem = {
    get url() {
      return url;
    },
    db,
    redis,
    prefix,
    env,
    role: (name) => processes.get(name)!,
    urlOf(name) {
      const found = urls.get(name);
      if (!found) throw new Error(`no GraphQL URL for '${name}': start it first`);
      return found;
    },
    async start(name) {
      const role = roleOf(name);
      const child = spawnRole(role, env);
      processes.set(name, child);
      await child.waitFor(new RegExp(`ready \\(${role}\\)`), READY_TIMEOUT_MS);
      if (role === "api" || role === "all") urls.set(name, (await child.waitFor(/Graph(?:iQL|QL) at (http:\/\/\S+)/))[1]!);
      // `url` stays the first replica's, as when only one was started.
      if (name === "api" || name === "all") url = urls.get(name)!;
      return child;
    },
    stop: (name, signal) => processes.get(name)?.stop(signal) ?? Promise.resolve(null),
    async shutdown() {
      const codes = await Promise.all([...processes.values()].map((p) => p.stop()));
      await deleteKeys(redis, prefix);
      await redis.quit();
      await db.drop();
      return codes;
    },
  };
  try {
    // Migrations run once, in the first process, before the others race to apply them.
    await system.start(roles[0]!);
    await Promise.all(roles.slice(1).map((r) => system.start(r)));
  } catch (error) {
    await system.shutdown().catch(() => undefined); // leave no database, keys or processes behind
    throw error;
  }
  return system;
}

/** `api#2` is a second replica of `api`; a plain name is its role. */
function roleOf(name: string): string {
  return name.split("#")[0]!;
}

/** Polls `probe` until it returns a value (bounded); for outcomes that arrive asynchronously. */
export async function eventually<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
