import { type Cluster, Redis } from "ioredis";
import type { PgStandby } from "./pgStandby";
import { spawnRole, type RoleProcess } from "./processes";
import type { RedisCluster } from "./redisCluster";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, withDatabase, type TestDatabase } from "./testEnv";

/** Where the roles run besides the shared servers. */
export interface SystemOptions {
  /** Every role on this Redis Cluster (REDIS_CLUSTER_NODES); the test's own client is a Cluster client. */
  redisCluster?: RedisCluster;
  /** The database on this primary, and the log readers on its hot standby (DATABASE_READ_URL). */
  standby?: PgStandby;
}

export interface RunningSystem<R extends Redis | Cluster = Redis> {
  url: string;
  db: TestDatabase;
  redis: R;
  prefix: string;
  env: Record<string, string>;
  /** The database on the hot standby the log readers use, or null without one. */
  readerUrl: string | null;
  role(name: string): RoleProcess;
  /** The names (`api`, `api#2`, ...) of the running processes of `role`, in the order they were started. */
  replicas(role: string): string[];
  /** Whether a process of this name was ever started (it may have stopped since). */
  started(name: string): boolean;
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

/** Generous: on a loaded 2-core machine (a dozen roles of a scaled-out run at once) a role can take over a minute to load. */
const READY_TIMEOUT_MS = 180_000;

/**
 * Every role as its own child process, against a database and key prefix of its own.
 * `extraEnv` may be a function of the base environment, e.g. to route DATABASE_URL through a fault proxy.
 */
type ExtraEnv = Record<string, string> | ((base: Record<string, string>) => Record<string, string>);

export async function startSystem(roles: string[], extraEnv?: ExtraEnv, options?: SystemOptions & { redisCluster?: undefined }): Promise<RunningSystem>;
export async function startSystem(roles: string[], extraEnv: ExtraEnv, options: SystemOptions & { redisCluster: RedisCluster }): Promise<RunningSystem<Cluster>>;
export async function startSystem(roles: string[], extraEnv: ExtraEnv = {}, options: SystemOptions = {}): Promise<RunningSystem<Redis | Cluster>> {
  const db = await createTestDatabase(options.standby ? { adminUrl: options.standby.primaryUrl() } : {});
  const readerUrl = options.standby ? withDatabase(options.standby.standbyUrl(), new URL(db.url).pathname.slice(1)) : null;
  // A run may bring its own Redis (the chaos suite restarts and wipes one); a function routes
  // the roles through a proxy while the test itself keeps a direct connection.
  const ownRedis = typeof extraEnv === "function" ? undefined : extraEnv.REDIS_URL;
  const redis: Redis | Cluster = options.redisCluster
    ? options.redisCluster.client()
    : ownRedis
      ? new Redis(ownRedis, { maxRetriesPerRequest: null })
      : testRedis();
  redis.on("error", () => undefined); // it reconnects by itself when its Redis restarts
  const prefix = testPrefix();
  const base: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    EVENTLINE_PREFIX: prefix,
    PORT: "0",
    ...(readerUrl ? { DATABASE_READ_URL: readerUrl } : {}),
    ...(options.redisCluster ? { REDIS_CLUSTER_NODES: options.redisCluster.nodesSetting } : {}),
  };
  const env = { ...base, ...(typeof extraEnv === "function" ? extraEnv(base) : extraEnv) };
  const processes = new Map<string, RoleProcess>();
  const urls = new Map<string, string>();
  let url = "";

  const system: RunningSystem<Redis | Cluster> = {
    get url() {
      return url;
    },
    db,
    redis,
    prefix,
    env,
    readerUrl,
    role: (name) => processes.get(name)!,
    started: (name) => processes.has(name),
    replicas: (role) =>
      [...processes].filter(([name, p]) => roleOf(name) === role && p.child.exitCode === null && p.child.signalCode === null).map(([name]) => name),
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
      // A cluster is the test's own and goes with its folder; the single Redis is shared.
      if (redis instanceof Redis) await deleteKeys(redis, prefix);
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
