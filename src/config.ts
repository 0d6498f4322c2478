import { z } from "zod";

/**
 * Every setting comes from the environment, read once at start-up and
 * validated here. README.md lists them all; keep the two in step.
 */
const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  EVENTLINE_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/).default("eventline"),
  EVENTLINE_DATA_DIR: z.string().min(1).default(".data"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  PG_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  COMMAND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  PROJECTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  PROJECTOR_CATCH_UP_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  READ_WAIT_MAX_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SAGA_DEADLINE_MS: z.coerce.number().int().min(100).max(3_600_000).optional(),
  SAGA_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SAGA_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  readonly code = "CONFIG";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join(".");
    return `  ${name}=${JSON.stringify(env[name] ?? "")}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid environment:\n${problems.join("\n")}`);
}
