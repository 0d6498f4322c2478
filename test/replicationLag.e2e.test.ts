import { EventStore } from "../src/platform/eventstore/eventStore";
import { createPool } from "../src/platform/eventstore/pool";
import { ProjectionStatusDocument } from "./graphql/generated";
import { request } from "./support/graphqlClient";
import { families, scrape, valueOf } from "./support/metrics";
import { PgStandby } from "./support/pgStandby";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * Issue 12, item 3: with DATABASE_READ_URL on a real hot standby, the lag
 * behind the primary shows in `projectionStatus` and in /metrics; without
 * one, the field is null and the metric family absent.
 */
const GAUGE = "eventline_log_reader_replication_lag_seconds";
const meta = { correlationId: "c", causationId: "c", actor: "test" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const statuses = async (system: RunningSystem) => (await request(system.url, ProjectionStatusDocument, {})).projectionStatus;
const origin = (system: RunningSystem) => system.url.replace(/\/graphql$/, "");

describe("replication lag without a standby", () => {
  let system: RunningSystem;
  beforeAll(async () => {
    system = await startSystem(["all"]);
  }, 120_000);
  afterAll(async () => {
    await system?.shutdown();
  });

  it("is null in projectionStatus and absent from /metrics", async () => {
    // Wait for the projector's first publication, so the null is not merely "not published yet".
    const published = await eventually(async () => {
      const all = await statuses(system);
      return all.every((s) => s.statusUpdatedAt) && all;
    }, "a status publication");
    expect(published.length).toBeGreaterThan(0);
    for (const status of published) expect(status.replicationLagSeconds).toBeNull();
    expect(families((await scrape(origin(system))).text).has(GAUGE)).toBe(false);
  });
});

describe("replication lag with the log readers on a hot standby", () => {
  let servers: PgStandby;
  let system: RunningSystem;
  let primaryUrl: string;
  let standbyUrl: string;

  beforeAll(async () => {
    servers = await PgStandby.start();
    ({ primaryUrl, standbyUrl } = await servers.createDatabase("eventline"));
    system = await startSystem(["all"], (base) => ({ ...base, DATABASE_URL: primaryUrl, DATABASE_READ_URL: standbyUrl, PROJECTOR_CATCH_UP_MS: "200" }));
  }, 180_000);

  afterAll(async () => {
    await system?.shutdown();
    await servers?.stop();
  });

  const lags = async () => (await statuses(system)).map((s) => s.replicationLagSeconds);
  const gauge = async () => valueOf((await scrape(origin(system))).samples, GAUGE);

  it("is 0 in projectionStatus and /metrics while the standby keeps up", async () => {
    await servers.waitForReplay();
    const caughtUp = await eventually(async () => {
      const all = await lags();
      return all.length > 0 && all.every((lag) => lag === 0) && all;
    }, "every projection's status to show a standby 0 s behind");
    expect(caughtUp.length).toBeGreaterThan(0);
    expect(await gauge()).toBe(0);
  });

  it("grows while the standby's replay is paused and the primary takes writes, and returns to 0 after", async () => {
    const standby = createPool(standbyUrl, { max: 1 });
    const primary = createPool(primaryUrl, { max: 1 });
    try {
      await standby.query("SELECT pg_wal_replay_pause()");
      try {
        await sleep(1100);
        await new EventStore(primary).append("lagging", "no_stream", [{ type: "Written", data: {}, metadata: meta }]);
        await eventually(async () => (await lags()).every((lag) => lag !== null && lag > 1), "projectionStatus to show the paused standby > 1 s behind", 20_000, 100);
        expect(await gauge()).toBeGreaterThan(1);
      } finally {
        await standby.query("SELECT pg_wal_replay_resume()");
      }
      await servers.waitForReplay();
      await eventually(async () => (await lags()).every((lag) => lag === 0), "projectionStatus to show the standby caught up again", 20_000, 100);
      expect(await gauge()).toBe(0);
    } finally {
      await standby.end();
      await primary.end();
    }
  });
});
