import { loadConfig } from "../../src/config";
import type { Logger } from "../../src/platform/observability/logger";
import { type RunningApp, startApp } from "../../src/platform/runtime/app";
import type { ServiceDefinition } from "../../src/platform/runtime/service";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL } from "./testEnv";

export interface InProcessApp {
  app: RunningApp;
  /** The Redis key prefix of this app alone. */
  prefix: string;
  /** Stops the app, then deletes its keys and its database. */
  stop(): Promise<void>;
}

/** `roles` of `services` in this process, on a database and Redis prefix of their own (what `eventline <role>` runs). */
export async function startInProcessApp(options: { services: readonly ServiceDefinition[]; roles: readonly string[]; log: Logger }): Promise<InProcessApp> {
  const db = await createTestDatabase();
  const prefix = testPrefix();
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, EVENTLINE_PREFIX: prefix, PORT: "0", HOST: "127.0.0.1" });
  const app = await startApp({ config: { ...config, DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL }, ...options });
  return {
    app,
    prefix,
    async stop() {
      await app.stop();
      const redis = testRedis();
      await deleteKeys(redis, prefix);
      await redis.quit();
      await db.drop();
    },
  };
}
