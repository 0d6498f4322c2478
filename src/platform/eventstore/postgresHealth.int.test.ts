import { startFaultProxy, targetOf, type FaultProxy } from "../../../test/support/faultProxy";
import { eventually } from "../../../test/support/system";
import { ADMIN_DATABASE_URL } from "../../../test/support/testEnv";
import { ErrorCode } from "../errors";
import { PostgresHealth } from "./postgresHealth";
import { capturingLogger } from "../observability/logger";

let proxy: FaultProxy;
let health: PostgresHealth;
const logs: string[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy(targetOf(ADMIN_DATABASE_URL, 5432));
  health = new PostgresHealth(proxy.urlFor(ADMIN_DATABASE_URL), { probeEveryMs: 100, timeoutMs: 300 }, capturingLogger(logs));
  health.start();
});

afterAll(async () => {
  await health.stop();
  await proxy.close();
});

it.each(["hang", "refuse"] as const)("notices PostgreSQL going away (%s) and coming back, with no help from callers", async (mode) => {
  await eventually(async () => proxy.liveConnections() > 0 && health.isUp(), "a first probe");
  expect(() => health.assertUp()).not.toThrow();

  proxy.block(mode);
  proxy.cut();
  await eventually(async () => !health.isUp(), "the probe to fail");
  expect(() => health.assertUp()).toThrow(expect.objectContaining({ code: ErrorCode.UNAVAILABLE, details: { dependency: "PostgreSQL" } }));

  proxy.restore();
  await eventually(async () => health.isUp(), "the probe to succeed again");
  expect(logs.slice(-2)).toEqual([expect.stringMatching(/^PostgreSQL unreachable: /), "PostgreSQL reachable again"]);
});

it("believes a caller's report of a failure until the next probe answers", async () => {
  await eventually(async () => health.isUp(), "PostgreSQL up");
  health.reportFailure(new Error("connect ECONNREFUSED"));
  expect(health.isUp()).toBe(false);
  await eventually(async () => health.isUp(), "the next probe");
});
