import { RedisServer } from "./chaos/redisServer";
import { startSystem } from "./support/system";

/**
 * A graceful stop that cannot finish (here: the role's Redis froze, so every
 * connection waits on it) must not keep the process alive: past
 * SHUTDOWN_TIMEOUT_MS it exits with code 1 and names the part it waited on.
 * Without the bound, `stop` below never resolves and the test times out.
 */
it("a role whose Redis froze still exits after SHUTDOWN_TIMEOUT_MS, with code 1, naming what it waited on", async () => {
  const redis = await RedisServer.start();
  const system = await startSystem(["inventory"], { REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: "2000" });
  try {
    redis.freeze();
    expect(await system.stop("inventory")).toBe(1);
    expect(system.role("inventory").output()).toMatch(/stopping took longer than SHUTDOWN_TIMEOUT_MS \(2000 ms\), still waiting on [a-z]/);
  } finally {
    redis.thaw();
    await system.shutdown();
    await redis.stop();
  }
}, 60_000);
