import { z } from "zod";

/** Tracing's settings, also read on their own before anything else loads (see loadTracingConfig). */
const tracingShape = {
  OTEL_ENABLED: z.preprocess(emptyAsUnset, z.enum(["true", "false"]).default("false")),
  /** Where spans go; without it they go to `OTEL_TRACES_EXPORTER` (console by default), never to the internet. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUnset, z.string().url().optional()),
  OTEL_TRACES_EXPORTER: z.preprocess(emptyAsUnset, z.enum(["otlp", "console", "none"]).optional()),
};

export type TracingConfig = z.infer<z.ZodObject<typeof tracingShape>>;

/**
 * Every setting comes from the environment, read once at start-up and
 * validated here. README.md lists them all; keep the two in step.
 */
const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  /** A hot standby of DATABASE_URL for the log readers (projectors, saga starter, lag and status); appends stay on the primary. */
  DATABASE_READ_URL: z.preprocess(emptyAsUnset, z.string().url().optional()),
  REDIS_URL: z.string().url().optional(),
  /** A Redis Cluster's start-up nodes, `host:port,host:port,…`: when set, every Redis connection is a cluster client (REDIS_URL is not used). */
  REDIS_CLUSTER_NODES: z.preprocess(
    emptyAsUnset,
    z.string().regex(/^\s*[^,\s]+:\d{1,5}\s*(,\s*[^,\s]+:\d{1,5}\s*)*$/, "must be host:port,host:port,… (the cluster's start-up nodes)").optional(),
  ),
  EVENTLINE_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/).default("eventline"),
  // Unset: `.data`, or as root /var/lib/eventline/<hash of the project directory> (see embeddedPlan.ts).
  EVENTLINE_DATA_DIR: z.preprocess(emptyAsUnset, z.string().min(1).optional()),
  // Local servers of `npm start` (role `all` without DATABASE_URL / REDIS_URL).
  EVENTLINE_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  EVENTLINE_REDIS_PORT: z.coerce.number().int().min(1).max(65535).default(63790),
  EVENTLINE_OS_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a valid OS user name (lower case, up to 32 characters)")
    .refine((name) => name !== "root", "must not be root: PostgreSQL refuses to run as root")
    .default("eventline"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  PG_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  COMMAND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  PROJECTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  PROJECTOR_CATCH_UP_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  PROJECTOR_MAX_EVENT_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  /**
   * How long a graceful stop (SIGTERM, Ctrl-C) may take before the process exits anyway, with code 1,
   * naming the part that was still stopping. Everything it leaves is durable (queued jobs, the log, leases
   * that expire), so a bounded stop loses nothing. Keep it under Kubernetes' terminationGracePeriodSeconds (30 s).
   */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(25_000),
  // Leases (decision 0026): a log processor's owner renews every third of the period; a dead one's units move within it.
  LEASE_PERIOD_MS: z.coerce.number().int().min(300).max(600_000).default(5000),
  /** A StatefulSet pod's ordinal: projector replicas then split projections by ordinal (leases still fence hand-offs). */
  PROJECTOR_ORDINAL: z.preprocess(emptyAsUnset, z.coerce.number().int().min(0).max(10_000).optional()),
  /** With PROJECTOR_ORDINAL: the StatefulSet's replicas; unset, the highest live ordinal + 1. */
  PROJECTOR_REPLICAS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).max(10_000).optional()),
  /** Segments per projection, e.g. `orders=4,products=2` (decision 0027); unnamed projections run as one. */
  PROJECTION_SEGMENTS: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .regex(/^\s*[A-Za-z][A-Za-z0-9_]*\s*=\s*([1-9]|[1-5][0-9]|6[0-4])\s*(,\s*[A-Za-z][A-Za-z0-9_]*\s*=\s*([1-9]|[1-5][0-9]|6[0-4])\s*)*$/, "must be name=count pairs separated by commas, each count from 1 to 64, e.g. orders=4,products=2")
      .optional()
      .transform(parseSegmentCounts),
  ),
  READ_WAIT_MAX_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  /** Change batches kept per projection for subscriptions to resume from (`after:`); older ones: RESUME_WINDOW_EXCEEDED. */
  SUBSCRIPTION_REPLAY_BATCHES: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  COMMAND_ENQUEUE_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  // Durable enqueue on a replicated Redis (see README's "After a Redis failover"): 0 takes the primary's word.
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(100).default(0),
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  // Commands each service's worker runs at once (each holds a pool connection while it appends).
  COMMAND_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  // How often a caller reads its job's state in case a reply message (pub/sub) was lost.
  COMMAND_REPLY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  // Bounds on what the command queues keep in Redis (see README's Bad input).
  COMMAND_KEEP_COMPLETED: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  COMMAND_KEEP_FAILED: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  COMMAND_MAX_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(16 * 1024),
  // Admission control (see bus/admission.ts): 0 turns it off.
  COMMAND_MAX_QUEUED: z.coerce.number().int().min(0).max(10_000_000).default(2000),
  COMMAND_QUEUE_COUNT_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  OVERLOAD_RETRY_AFTER_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  REDIS_READ_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  PG_HEALTH_PROBE_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  PG_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  SAGA_DEADLINE_MS: z.coerce.number().int().min(100).max(3_600_000).optional(),
  SAGA_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SAGA_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  SAGA_GIVE_UP_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  // In-flight work of a killed process resumes within this long of its successor being ready (see WorkerRecovery).
  RECLAIM_WITHIN_MS: z.coerce.number().int().min(200).max(60_000).default(1000),
  SNAPSHOT_EVERY: z.coerce.number().int().min(0).max(1_000_000).default(100),
  COMMAND_CACHE_STREAMS: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  // Access control (see resolveAuthMode): empty counts as unset, as compose files tend to pass it.
  AUTH_MODE: z.preprocess(emptyAsUnset, z.enum(["dev", "jwt"]).optional()),
  AUTH_JWT_SECRET: z.preprocess(
    emptyAsUnset,
    z.string().min(32, "must be at least 32 characters (HS256 needs a 256-bit key)").optional(),
  ),
  /** When set, a token must carry exactly this `iss`. */
  AUTH_JWT_ISSUER: z.preprocess(emptyAsUnset, z.string().min(1).max(200).optional()),
  /** When set, a token's `aud` (a string or a list) must include this value. */
  AUTH_JWT_AUDIENCE: z.preprocess(emptyAsUnset, z.string().min(1).max(200).optional()),
  // What one WebSocket may hold (see README's Access control): operations in flight, per socket and per token,
  // and bytes queued for a client that does not read.
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).max(100_000).default(100),
  WS_MAX_SUBSCRIPTIONS_PER_TOKEN: z.coerce.number().int().min(1).max(1_000_000).default(500),
  WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(1024 * 1024),
  // Limits on what one request may ask for; a refusal names the variable to raise.
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(100 * 1024),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).max(100).default(8),
  MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  MAX_QUERY_COST: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
  MAX_QUERY_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(2000),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(20),
  GRAPHQL_INTROSPECTION: z.preprocess(emptyAsUnset, z.enum(["true", "false"]).optional()),
  // GraphiQL: on by default except with NODE_ENV=production, where it must be asked for.
  GRAPHIQL_ENABLED: z.preprocess(emptyAsUnset, z.enum(["true", "false"]).optional()),
  // Operability: logs, health and metrics, tracing (see README's Health and telemetry).
  LOG_LEVEL: z.preprocess(emptyAsUnset, z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info")),
  METRICS_PORT: z.preprocess(emptyAsUnset, z.coerce.number().int().min(0).max(65535).optional()),
  /** Address the METRICS_PORT listener binds to (e.g. an internal interface), HOST when unset. */
  METRICS_HOST: z.preprocess(emptyAsUnset, z.string().min(1).optional()),
  /** When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.preprocess(emptyAsUnset, z.string().min(16, "must be at least 16 characters").regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces").optional()),
  READY_MAX_LAG_SECONDS: z.coerce.number().min(0).max(86_400).default(60),
  ...tracingShape,
});

/** Read on its own, before anything else is loaded: instrumentation must patch pg, ioredis and graphql first. */
export function loadTracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig {
  const parsed = z.object(tracingShape).safeParse(env);
  if (!parsed.success) throw new ConfigError(`Invalid environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/** Every variable read from the environment (README's Configuration table lists each). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

export type AuthMode = "dev" | "jwt";
export type Config = Omit<z.infer<typeof schema>, "AUTH_MODE" | "GRAPHQL_INTROSPECTION" | "GRAPHIQL_ENABLED"> & {
  AUTH_MODE: AuthMode;
  /** `__schema`/`__type` queries; on by default except with NODE_ENV=production. */
  GRAPHQL_INTROSPECTION: boolean;
  /** GraphiQL at GET /graphql; on by default except with NODE_ENV=production. */
  GRAPHIQL_ENABLED: boolean;
};

export class ConfigError extends Error {
  readonly code = "CONFIG";
}

/** Variables whose values are credentials (not WS_MAX_SUBSCRIPTIONS_PER_TOKEN, which merely names tokens). */
const SECRETS: ReadonlySet<string> = new Set(["AUTH_JWT_SECRET", "METRICS_TOKEN"]);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (parsed.success) {
    return {
      ...parsed.data,
      AUTH_MODE: resolveAuthMode(parsed.data, env.NODE_ENV),
      GRAPHQL_INTROSPECTION: (parsed.data.GRAPHQL_INTROSPECTION ?? (env.NODE_ENV === "production" ? "false" : "true")) === "true",
      GRAPHIQL_ENABLED: (parsed.data.GRAPHIQL_ENABLED ?? (env.NODE_ENV === "production" ? "false" : "true")) === "true",
    };
  }
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join(".");
    // A secret's value never goes to a log, even a wrong one.
    const value = SECRETS.has(name) ? `<${(env[name] ?? "").length} characters>` : JSON.stringify(env[name] ?? "");
    return `  ${name}=${value}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid environment:\n${problems.join("\n")}`);
}

/**
 * `jwt` when a secret is set or asked for; `dev` (everything allowed, said loudly at start-up)
 * only outside production, or in production when AUTH_MODE=dev is set explicitly.
 */
function resolveAuthMode(config: { AUTH_MODE?: AuthMode | undefined; AUTH_JWT_SECRET?: string | undefined }, nodeEnv?: string): AuthMode {
  const mode = config.AUTH_MODE ?? (config.AUTH_JWT_SECRET ? "jwt" : nodeEnv === "production" ? null : "dev");
  if (mode === "jwt" && !config.AUTH_JWT_SECRET) {
    throw new ConfigError("AUTH_MODE=jwt needs AUTH_JWT_SECRET: the HS256 key (32 characters or more) that signs bearer tokens");
  }
  if (mode === null) {
    throw new ConfigError(
      "AUTH_JWT_SECRET is not set and NODE_ENV=production: refusing to start without access control. " +
        "Set AUTH_JWT_SECRET to the HS256 key (32 characters or more) that signs bearer tokens, " +
        "or AUTH_MODE=dev to run with every request allowed.",
    );
  }
  return mode;
}

function parseSegmentCounts(value: string | undefined): Readonly<Record<string, number>> {
  const pairs = (value ?? "").split(",").filter((pair) => pair.trim() !== "");
  return Object.fromEntries(pairs.map((pair) => pair.split("=").map((part) => part.trim())).map(([name, count]) => [name, Number(count)]));
}

function emptyAsUnset(value: unknown): unknown {
  return value === "" ? undefined : value;
}
