import type { Config } from "../../config";
import { embeddedPostgresUrl } from "./embeddedPostgres";
import { embeddedRedisUrl } from "./embeddedRedis";

export const ENV_USAGE = "env              print `export DATABASE_URL=… REDIS_URL=…` lines for what `npm start` uses (eval \"$(npx eventline env)\")";

/**
 * The URLs a second role needs to join a running `npm start`: the ones set in
 * the environment, else those of the embedded servers. Nothing is started or
 * contacted; the embedded PostgreSQL's password is a fixed local one.
 */
export function envLines(config: Pick<Config, "DATABASE_URL" | "REDIS_URL" | "EVENTLINE_PG_PORT" | "EVENTLINE_REDIS_PORT">): string[] {
  const database = config.DATABASE_URL ?? embeddedPostgresUrl(config.EVENTLINE_PG_PORT);
  const redis = config.REDIS_URL ?? embeddedRedisUrl(config.EVENTLINE_REDIS_PORT);
  return [`export DATABASE_URL=${shellQuote(database)}`, `export REDIS_URL=${shellQuote(redis)}`];
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_:/@.?=&%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
