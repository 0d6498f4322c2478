import { createTransactionalRedis } from "./redis";
import { TEST_REDIS_URL } from "../../../test/support/testEnv";

it("a transactional connection rejects a command cut off by a disconnect, and never resends it", async () => {
  const redis = await createTransactionalRedis(TEST_REDIS_URL);
  try {
    // BLPOP on a key nobody pushes to stays in flight until the connection drops.
    const inFlight = redis.blpop(`evtest:never:${Date.now()}`, 5);
    redis.disconnect(true);
    await expect(inFlight).rejects.toThrow();
    // While reconnecting, nothing is queued for later either.
    await expect(redis.get("evtest:any")).rejects.toThrow();
    await new Promise((resolve) => redis.once("ready", resolve));
    expect(await redis.ping()).toBe("PONG");
  } finally {
    redis.disconnect();
  }
});
