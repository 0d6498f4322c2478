import { ConcurrencyError } from "../core/errors";
import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import { EventStore } from "./eventStore";
import { compareLogPositions, LOG_START } from "./logPosition";

const meta = { correlationId: "c-1", causationId: "c-1", actor: "test" };
const event = (n: number) => ({ type: "Counted", data: { n }, metadata: meta });

/** Waits until at least `count` of this database's backends wait on a lock. */
async function waitForWaiters(db: TestDatabase, count: number): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0].n >= count) return;
  }
  throw new Error(`fewer than ${count} appends waited on the open transaction`);
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe("EventStore.append", () => {
  it("appends to a new stream and returns its version and position", async () => {
    const result = await db.store.append("s-new", "no_stream", [event(1), event(2)]);
    expect(result.streamVersion).toBe(2);
    expect(result.duplicate).toBe(false);
    const stored = await db.store.readStream("s-new");
    expect(stored.map((e) => [e.streamVersion, e.data])).toEqual([[1, { n: 1 }], [2, { n: 2 }]]);
    expect(stored[1]!.globalPosition).toBe(result.globalPosition);
    expect(stored[0]!.metadata).toMatchObject({ ...meta, recordedAt: expect.any(String) });
  });

  it("rejects a stale expected version and appends nothing", async () => {
    await db.store.append("s-stale", "no_stream", [event(1)]);
    await expect(db.store.append("s-stale", "no_stream", [event(2)])).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(db.store.append("s-stale", 5, [event(2)])).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await db.store.readStream("s-stale")).toHaveLength(1);
  });

  it("appends at any version with 'any'", async () => {
    await db.store.append("s-any", "any", [event(1)]);
    const second = await db.store.append("s-any", "any", [event(2)]);
    expect(second.streamVersion).toBe(2);
  });

  it("'any' appends racing on one stream all land, each at its own version", async () => {
    // An open transaction holds version 1, so every writer reads the same end, waits on it, and loses; after that
    // each round has one winner, and a writer can lose once per other writer in the pile.
    const holder = await db.pool.connect();
    try {
      await holder.query("BEGIN");
      await new EventStore(holder).append("s-any-race", "any", [event(0)]);
      // Fewer writers than the pool's 20 connections, so the holder's commit and the wait below still get one.
      const racing = Promise.all(Array.from({ length: 15 }, (_, i) => db.store.append("s-any-race", "any", [event(i + 1)])));
      await waitForWaiters(db, 15);
      await holder.query("COMMIT");
      const versions = (await racing).map((r) => r.streamVersion).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 15 }, (_, i) => i + 2));
    } finally {
      holder.release();
    }
    expect(await db.store.readStream("s-any-race")).toHaveLength(16);
  });

  it("returns the first result for a repeated command id and appends nothing", async () => {
    const first = await db.store.append("s-cmd", "no_stream", [event(1)], { commandId: "cmd-1" });
    const again = await db.store.append("s-cmd", 1, [event(2)], { commandId: "cmd-1" });
    expect(again.duplicate).toBe(true);
    expect(again.streamVersion).toBe(first.streamVersion);
    expect(again.position).toEqual(first.position);
    expect(await db.store.readStream("s-cmd")).toHaveLength(1);
  });

  it("refuses to update or delete events", async () => {
    await db.store.append("s-immutable", "no_stream", [event(1)]);
    await expect(db.pool.query("UPDATE events SET type = 'x'")).rejects.toThrow(/append-only/);
    await expect(db.pool.query("DELETE FROM events")).rejects.toThrow(/append-only/);
  });

  it("reads a version range of a stream", async () => {
    await db.store.append("s-range", "no_stream", [event(1), event(2), event(3), event(4)]);
    const middle = await db.store.readStream("s-range", { fromVersion: 2, toVersion: 3 });
    expect(middle.map((e) => e.streamVersion)).toEqual([2, 3]);
  });
});

describe("EventStore.readAll", () => {
  it("pages through the log in commit order", async () => {
    const { rows } = await db.pool.query("SELECT event_id FROM events ORDER BY transaction_id, global_position");
    let checkpoint = LOG_START;
    const seen: string[] = [];
    // Open transactions elsewhere in the cluster may hold the horizon back briefly: read until caught up.
    const giveUpAt = Date.now() + 20_000;
    while (seen.length < rows.length && Date.now() < giveUpAt) {
      const page = await db.store.readAll(checkpoint, 3);
      for (const e of page.events) {
        expect(compareLogPositions(e.position, checkpoint)).toBe(1);
        seen.push(e.eventId);
      }
      checkpoint = page.checkpoint;
      if (page.events.length === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen).toEqual(rows.map((r) => r.event_id));
  });
});
