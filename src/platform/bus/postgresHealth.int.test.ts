import { startFaultProxy, targetOf, type FaultProxy } from "../../../test/support/faultProxy";
import { eventually } from "../../../test/support/system";
import { ADMIN_DATABASE_URL } from "../../../test/support/testEnv";
import { ErrorCode } from "../core/errors";
import { UnavailableError } from "../core/errors";
import { createPool } from "../eventstore/pool";
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
  expect(logs.filter((line) => !/slow to answer/.test(line)).slice(-2)).toEqual([expect.stringMatching(/^PostgreSQL unreachable: /), "PostgreSQL reachable again"]);
});

it("believes a caller's report of a failure until the next probe answers", async () => {
  await eventually(async () => health.isUp(), "PostgreSQL up");
  health.reportFailure(new Error("connect ECONNREFUSED"));
  expect(health.isUp()).toBe(false);
  await eventually(async () => health.isUp(), "the next probe");
});

describe("overload is not an outage", () => {
  it("keeps PostgreSQL up when a probe times out on a connection that is slow, not gone", async () => {
    await eventually(async () => proxy.liveConnections() > 0 && health.isUp(), "a first probe");
    const before = logs.length;
    proxy.stall(); // the probe's connection stays open but answers nothing, as a database too busy to reply
    try {
      await eventually(async () => logs.slice(before).some((line) => /slow to answer/.test(line)), "a probe to time out");
      expect(health.isUp()).toBe(true);
    } finally {
      proxy.restore();
    }
    expect(logs.slice(before).filter((line) => /unreachable/.test(line))).toEqual([]);
  });

  it("ignores a caller's timeout while the pool is saturated by busy queries, and believes a refused connection", async () => {
    await eventually(async () => health.isUp(), "PostgreSQL up");
    const pool = createPool(ADMIN_DATABASE_URL, { max: 1, connectionTimeoutMillis: 100 });
    try {
      // The short timeout also bounds opening the pool's only connection, which a
      // loaded machine can miss; that is not the case under test, so try again.
      const held = await eventually(async () => pool.connect().catch(() => null), "the pool's only connection");
      const busy = held.query("SELECT pg_sleep(0.5)").finally(() => held.release());
      const timedOut = await pool.query("SELECT 1").then(() => null, (error: unknown) => error);
      expect(String(timedOut)).toMatch(/timeout exceeded when trying to connect/);
      // As the event store wraps it and a command worker reports it.
      health.reportFailure(new UnavailableError("PostgreSQL", timedOut));
      expect(health.isUp()).toBe(true);
      await busy;
    } finally {
      await pool.end();
    }
    const nowhere = createPool("postgres://postgres@127.0.0.1:1/postgres", { max: 1 });
    const refused = await nowhere.connect().then(() => null, (error: unknown) => error);
    await nowhere.end();
    health.reportFailure(new UnavailableError("PostgreSQL", refused));
    expect(health.isUp()).toBe(false);
    await eventually(async () => health.isUp(), "the next probe");
  });
});
