import type { Pool } from "pg";
import { UnavailableError } from "../src/platform/core/errors";
import { EventStore } from "../src/platform/eventstore/eventStore";
import { compareLogPositions, LOG_START } from "../src/platform/eventstore/logPosition";
import { migrate } from "../src/platform/eventstore/migrations";
import { createPool } from "../src/platform/eventstore/pool";
import type { RecordedEvent } from "../src/platform/eventstore/types";
import { PgStandby } from "./support/pgStandby";

/**
 * The log reader on a real hot standby (issue 12, item 3): writers append on
 * the primary, holding their transactions open for random times, while a
 * reader tails the standby. It must see every event once, in commit order.
 */
const WRITERS = 6;
const EVENTS_PER_WRITER = 120;
const meta = { correlationId: "c", causationId: "c", actor: "test" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let servers: PgStandby;
let primary: Pool;
let standby: Pool;
let store: EventStore; // appends on the primary, log reads on the standby

beforeAll(async () => {
  servers = await PgStandby.start();
  const { primaryUrl, standbyUrl } = await servers.createDatabase("eventline");
  primary = createPool(primaryUrl, { max: WRITERS + 2 });
  standby = createPool(standbyUrl, { max: 2 });
  await migrate(primary);
  await servers.waitForReplay();
  store = new EventStore(primary, { reader: standby });
}, 180_000);

afterAll(async () => {
  await primary?.end();
  await standby?.end();
  await servers?.stop();
});

async function writer(w: number): Promise<void> {
  let version = 0;
  while (version < EVENTS_PER_WRITER) {
    const client = await primary.connect();
    try {
      await client.query("BEGIN");
      const count = Math.min(1 + Math.floor(Math.random() * 3), EVENTS_PER_WRITER - version);
      const events = Array.from({ length: count }, (_, i) => ({ type: "Written", data: { w, n: version + i }, metadata: meta }));
      await new EventStore(client).append(`writer-${w}`, version || "no_stream", events);
      await sleep(Math.random() * 40);
      await client.query("COMMIT");
      version += count;
    } finally {
      client.release();
    }
  }
}

describe("test support: a real PostgreSQL hot standby", () => {
  it("is in recovery, streaming from the primary", async () => {
    expect((await standby.query("SELECT pg_is_in_recovery() AS r")).rows[0].r).toBe(true);
    expect((await primary.query("SELECT pg_is_in_recovery() AS r")).rows[0].r).toBe(false);
    expect((await primary.query("SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'")).rows[0].n).toBe(1);
  });

  it("refuses pg_current_xact_id() but answers the reader's snapshot horizon", async () => {
    await expect(standby.query("SELECT pg_current_xact_id()")).rejects.toThrow(/recovery/);
    const { rows } = await standby.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin");
    expect(BigInt(rows[0].xmin)).toBeGreaterThan(0n);
  });
});

describe("EventStore with a reader on the standby", () => {
  it("tails every event once, in commit order, while writers commit out of order on the primary", async () => {
    const total = WRITERS * EVENTS_PER_WRITER;
    const seen: RecordedEvent[] = [];
    let writing = true;
    const tail = (async () => {
      let checkpoint = LOG_START;
      for (const giveUpAt = Date.now() + 120_000; seen.length < total && Date.now() < giveUpAt; ) {
        const page = await store.readAll(checkpoint, 100);
        seen.push(...page.events);
        checkpoint = page.checkpoint;
        if (page.events.length === 0) await sleep(writing ? 5 : 20);
      }
    })();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writing = false;
    await tail;

    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((e) => e.eventId)).size).toBe(total);
    for (let i = 1; i < seen.length; i++) expect(compareLogPositions(seen[i - 1]!.position, seen[i]!.position)).toBeLessThan(0);
    for (let w = 0; w < WRITERS; w++) {
      expect(seen.filter((e) => e.streamId === `writer-${w}`).map((e) => e.streamVersion)).toEqual(
        Array.from({ length: EVENTS_PER_WRITER }, (_, i) => i + 1),
      );
    }
    // The same log, in the same order, as the primary reads it.
    const onPrimary = await new EventStore(primary).readAll(LOG_START, total + 1);
    expect(onPrimary.events.map((e) => e.eventId)).toEqual(seen.map((e) => e.eventId));

    expect(await store.countVisibleEvents()).toBe(total);
    expect((await store.lagBehind(LOG_START)).events).toBe(total);
    expect((await store.lagBehind(seen.at(-1)!.position)).events).toBe(0);
  });

  it("reports the standby's lag behind the primary, 0 once it has replayed everything", async () => {
    await servers.waitForReplay();
    expect(await store.replicationLagSeconds()).toBe(0);
    expect(await new EventStore(primary).replicationLagSeconds()).toBe(0); // no separate reader
    expect((await servers.replayLag()).bytes).toBe(0);

    await standby.query("SELECT pg_wal_replay_pause()");
    try {
      await sleep(1100);
      await store.append("lagging", "no_stream", [{ type: "Written", data: {}, metadata: meta }]);
      await sleep(200);
      expect(await store.replicationLagSeconds()).toBeGreaterThan(1);
      expect((await servers.replayLag()).bytes).toBeGreaterThan(0);
      expect((await store.readStream("lagging")).length).toBe(1); // stream reads stay on the primary
    } finally {
      await standby.query("SELECT pg_wal_replay_resume()");
    }
    await servers.waitForReplay();
    expect(await store.replicationLagSeconds()).toBe(0);
  });

  it("keeps appending on the primary while the standby is stopped; the reader fails as UNAVAILABLE, then resumes", async () => {
    const before = await store.countVisibleEvents();
    await servers.stopStandby();
    try {
      await store.append("while-down", "no_stream", [{ type: "Written", data: {}, metadata: meta }]);
      expect((await store.readStream("while-down")).length).toBe(1);
      await expect(store.readAll(LOG_START, 1)).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await servers.startStandby();
    }
    await servers.waitForReplay();
    expect(await eventually(() => store.countVisibleEvents())).toBe(before + 1);
  });
});

/** A pool's clients broken by the restart are replaced on their next use; the first query may still fail. */
async function eventually<T>(read: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(100)) {
    try {
      return await read();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
