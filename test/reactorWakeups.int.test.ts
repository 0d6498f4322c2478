import { capturingLogger } from "../src/platform/observability/logger";
import { wakeChannel } from "../src/platform/processing/redisWakeups";
import { compose } from "../src/platform/runtime/composition";
import { services } from "../src/registry";
import { eventually } from "./support/system";
import { type InProcessApp, startInProcessApp } from "./support/inProcessApp";
import { testRedis } from "./support/testEnv";

/**
 * Appenders publish a wake-up to every processor in the composition's list
 * (compose().reactors) that reads an appended type. This checks the other end:
 * the service roles' reactors listen on those channels, so their polls can
 * slow down once settled (decision 0035) without delaying a reaction.
 */
describe("the services' reactors listen for wake-ups", () => {
  let running: InProcessApp | undefined;
  const reactorRoles = services.filter((s) => s.reactors?.length).map((s) => s.name);

  beforeAll(async () => {
    running = await startInProcessApp({ services, roles: reactorRoles, log: capturingLogger([]) });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
  });

  it("given the roles that run reactions, then each reactor is subscribed to its wake-up channel", async () => {
    const prefix = running?.prefix ?? "";
    const expected = compose(services)
      .parts.filter((p) => reactorRoles.includes(p.role))
      .flatMap((p) => p.subscriptions.map((s) => wakeChannel(prefix, s.name)));
    expect(expected.length).toBeGreaterThan(0);
    const redis = testRedis();
    try {
      const listened = async () => new Set((await redis.pubsub("CHANNELS", `${prefix}:wake:*`)) as string[]);
      await eventually(async () => {
        const channels = await listened();
        return expected.every((c) => channels.has(c));
      }, "the subscriptions");
      expect([...(await listened())].sort()).toEqual([...expected].sort());
    } finally {
      await redis.quit();
    }
  });
});
