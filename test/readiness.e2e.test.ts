import type { Redis } from "ioredis";
import { telemetryUrlIn } from "./support/logs";
import { scrape, valueOf } from "./support/metrics";
import { spawnRole, type RoleProcess } from "./support/processes";
import { eventually } from "./support/system";
import { startTcpProxy, type TcpProxy } from "./support/tcpProxy";
import { ADMIN_DATABASE_URL, createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase } from "./support/testEnv";

/**
 * /ready tells a dependency outage and a lagging read side apart from a dead
 * process (/health): the api reaches PostgreSQL and Redis through proxies this
 * test takes down and brings back, without touching the shared servers.
 */
let db: TestDatabase;
let redis: Redis;
let prefix: string;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let env: Record<string, string>;
let api: RoleProcess;
let base: string;

function through(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = "127.0.0.1";
  parsed.port = String(proxy.port);
  return parsed.toString();
}

interface ReadyBody {
  status: string;
  problems?: string[];
  checks: Record<string, { ok: boolean; error?: string }>;
}

async function ready(): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(`${base}/ready`);
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  prefix = testPrefix();
  const pg = new URL(ADMIN_DATABASE_URL);
  const rd = new URL(TEST_REDIS_URL);
  pgProxy = await startTcpProxy(pg.hostname, Number(pg.port || 5432));
  redisProxy = await startTcpProxy(rd.hostname, Number(rd.port || 6379));
  env = {
    DATABASE_URL: through(db.url, pgProxy),
    REDIS_URL: through(TEST_REDIS_URL, redisProxy),
    EVENTLINE_PREFIX: prefix,
    PORT: "0",
    READY_MAX_LAG_SECONDS: "1",
  };
  api = spawnRole("api", env);
  await api.waitFor(/ready \(api\)/);
  base = telemetryUrlIn(api.output())!;
}, 60_000);

afterAll(async () => {
  pgProxy.up();
  redisProxy.up();
  expect(await api.stop()).toBe(0);
  await pgProxy.close();
  await redisProxy.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await db.drop();
});

it("is ready while PostgreSQL and Redis answer and nothing lags", async () => {
  expect(await ready()).toMatchObject({
    status: 200,
    body: { status: "ready", checks: { postgres: { ok: true }, redis: { ok: true }, queues: { ok: true }, lag: { ok: true } } },
  });
});

it("is not ready while Redis is down, says so, stays alive, and recovers", async () => {
  redisProxy.down();
  const down = await eventually(async () => {
    const r = await ready();
    return r.status === 503 ? r : null;
  }, "/ready to fail");
  expect(down.body).toMatchObject({ status: "not ready", checks: { postgres: { ok: true }, redis: { ok: false }, queues: { ok: false } } });
  expect(down.body.problems).toContainEqual(expect.stringMatching(/^redis: /));
  expect((await fetch(`${base}/health`)).status).toBe(200);
  redisProxy.up();
  await eventually(async () => (await ready()).status === 200, "/ready to recover");
}, 30_000);

it("is not ready while PostgreSQL is down, says so, stays alive, and recovers", async () => {
  pgProxy.down();
  const down = await eventually(async () => {
    const r = await ready();
    return r.status === 503 ? r : null;
  }, "/ready to fail");
  expect(down.body).toMatchObject({ status: "not ready", checks: { postgres: { ok: false }, redis: { ok: true } } });
  expect(down.body.problems).toContainEqual(expect.stringMatching(/^postgres: /));
  expect((await fetch(`${base}/health`)).status).toBe(200);
  pgProxy.up();
  await eventually(async () => (await ready()).status === 200, "/ready to recover");
}, 30_000);

it("is not ready while the read models lag past READY_MAX_LAG_SECONDS, shows the lag, and recovers once projected", async () => {
  // No projector runs yet: an event in the log is lag for every projection.
  await db.store.append("telemetry.probe-1", "no_stream", [{ type: "ProbeRecorded", data: {}, metadata: { correlationId: "p", causationId: "p", actor: "test" } }]);
  const { samples } = await scrape(base);
  expect(valueOf(samples, "eventline_projection_lag_events", { projection: "products" })).toBe(1);
  // Every projection crosses the 1 s bound within moments of the others; wait for the one checked below.
  const lagging = await eventually(async () => {
    const r = await ready();
    return r.status === 503 && String(r.body.checks.lag?.error).includes("projection products") ? r : null;
  }, "/ready to report the lag of products");
  expect(lagging.body.checks.lag).toMatchObject({ ok: false, error: expect.stringMatching(/projection products is [\d.]+ s behind the log \(1 events\).*READY_MAX_LAG_SECONDS=1/) });
  expect(valueOf((await scrape(base)).samples, "eventline_projection_lag_seconds", { projection: "products" })).toBeGreaterThan(1);

  const projector = spawnRole("projector", env);
  try {
    await projector.waitFor(/ready \(projector\)/);
    await eventually(async () => (await ready()).status === 200, "the projector to catch up");
    expect(valueOf((await scrape(base)).samples, "eventline_projection_lag_events", { projection: "products" })).toBe(0);
  } finally {
    expect(await projector.stop()).toBe(0);
  }
}, 60_000);
