import { createTestDatabase, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { LOG_START } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { silentLogger } from "../observability/logger";
import { CheckpointedStep } from "./checkpointedStep";
import { LeaseCoordinator, type LeaseOptions } from "./leaseCoordinator";
import { LeasedStep, leaseFence } from "./leasedStep";
import { LeaseStore } from "./leaseStore";
import type { LogProcessor } from "./logProcessor";
import { PostgresCheckpointer } from "./postgresCheckpointer";
import { reactor } from "./reactor";

const meta = { correlationId: "c", causationId: "c", actor: "test" };
let db: TestDatabase;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(() => db.drop());

async function append(type: string, count: number): Promise<RecordedEvent[]> {
  const stream = `s-${++seq}`;
  await db.store.append(stream, "no_stream", Array.from({ length: count }, (_, n) => ({ type, data: { n }, metadata: meta })));
  await waitForLogVisible(db);
  return db.store.readStream(stream);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await sleep(10);
  }
  return Date.now() - started;
}

/** A unit's lease expiry in PostgreSQL, in ms since the epoch. */
async function leaseExpiry(unit: { processor: string; segment: number }): Promise<number> {
  const { rows } = await db.pool.query<{ ms: number }>(
    "SELECT extract(epoch FROM expires_at)::float8 * 1000 AS ms FROM processor_leases WHERE processor = $1 AND segment = $2",
    [unit.processor, unit.segment],
  );
  return rows[0]!.ms;
}

const coordinator = (group: string, member: string, periodMs = 600, extra: Partial<LeaseOptions> = {}) =>
  new LeaseCoordinator(db.pool, { group, member, periodMs, ordinal: null, replicas: 0, ...extra }, silentLogger());

describe("LeaseStore", () => {
  const unit = { processor: "p-store", segment: 0 };
  const store = () => new LeaseStore(db.pool);

  it("one owner at a time; the token grows by one at each change of owner; renewal refused once taken over", async () => {
    expect(await store().acquire(unit, "a", 10_000)).toBe(1);
    expect(await store().acquire(unit, "a", 10_000)).toBe(1); // already ours: same token
    expect(await store().acquire(unit, "b", 10_000)).toBeNull();
    expect(await store().release(unit, "a", 1)).toBe(true);
    expect(await store().acquire(unit, "b", 10_000)).toBe(2);
    expect(await store().beat("g", "a", null, 10_000, [{ ...unit, token: 1 }])).toEqual([]);
    expect(await store().beat("g", "b", null, 10_000, [{ ...unit, token: 2 }])).toEqual([unit]);
    expect(await store().release(unit, "a", 1)).toBe(false); // a stale owner cannot release it either
  });

  it("an expired lease goes to whoever asks, with the next token", async () => {
    const lapsing = { processor: "p-lapse", segment: 3 };
    expect(await store().acquire(lapsing, "a", 50)).toBe(1);
    await sleep(80);
    expect(await store().acquire(lapsing, "b", 10_000)).toBe(2);
  });
});

describe("lease fencing", () => {
  it("a stale owner's batch is refused (FENCED) once a newer owner stored the checkpoint, and nothing of it is stored", async () => {
    const checkpointer = new PostgresCheckpointer(db.pool);
    const events = await append("Fenced", 3);
    const [a, b, c] = events.map((e) => e.position);
    expect(await checkpointer.store("fenced", LOG_START, a!, { token: 1 })).toEqual({ success: true, checkpoint: a });
    // The owner with token 1 reads its next batch at `a`, then stalls; the lease passes to token 2, which commits a→b.
    expect(await checkpointer.store("fenced", a!, b!, { token: 2 })).toEqual({ success: true, checkpoint: b });
    // The stale owner wakes, still thinks it owns the unit and commits from where the new owner left: refused.
    expect(await checkpointer.store("fenced", b!, c!, { token: 1 })).toEqual({ success: false, reason: "FENCED" });
    expect(await checkpointer.read("fenced")).toEqual(b);
  });

  it("two drivers of one reactor, one lease: the stale owner's step is fenced and counts as a hand-off, the other applies each event once", async () => {
    const handled = new Map<string, number>();
    const definition = { name: "fence-race", eventTypes: ["Race"], handle: async (e: RecordedEvent) => void handled.set(e.eventId, (handled.get(e.eventId) ?? 0) + 1) };
    const checkpointer = new PostgresCheckpointer(db.pool);
    const [first, second] = [coordinator("race", "first", 60_000), coordinator("race", "second", 60_000)];
    const unit = { processor: "fence-race", segment: 0 };
    const steps = [first, second].map((c) => {
      const lease = c.lease(unit);
      return new LeasedStep(new CheckpointedStep(definition, db.store, checkpointer, { batchSize: 100, maxEventAttempts: 3, fence: leaseFence(lease) }), lease, c);
    });
    await first.start();
    await second.start();
    const owner = first.held().length ? 0 : 1;
    const [ownerStep, otherStep] = [steps[owner]!, steps[1 - owner]!];
    await append("Race", 4);
    expect((await otherStep.step()).kind).toBe("standby"); // not its unit: reads nothing
    expect((await ownerStep.step()).kind).toBe("applied");
    // The owner is cut off (SIGKILL-like: stops renewing, keeps its token); the other takes the lease over.
    const store = new LeaseStore(db.pool);
    const stale = ownerStep.lease.token;
    await db.pool.query("UPDATE processor_leases SET expires_at = now() - interval '1 second' WHERE processor = $1", ["fence-race"]);
    const otherLease = otherStep.lease;
    otherLease.held((await store.acquire(unit, [first, second][1 - owner]!.member, 60_000))!, Number.POSITIVE_INFINITY);
    expect(otherLease.token).toBe(stale + 1);
    await append("Race", 3);
    expect((await otherStep.step()).kind).toBe("applied");
    await append("Race", 2);
    // The stale owner still believes it holds the lease: its batch is read, handled (at least once), and refused.
    expect((await ownerStep.step()).kind).toBe("standby"); // FENCED: a hand-off, not an error
    expect(ownerStep.lease.fence()).toBeNull(); // and it stops driving at once
    expect((await ownerStep.step()).kind).toBe("standby");
    expect((await otherStep.step()).kind).toBe("applied");
    expect((await otherStep.step()).kind).toBe("idle");
    expect(handled.size).toBe(9);
    first.halt();
    second.halt();
  });
});

describe("LeaseCoordinator", () => {
  it("after the owner stops renewing (SIGKILL), another replica takes the unit over within one lease period", async () => {
    const periodMs = 900;
    const [a, b] = [coordinator("takeover", "a", periodMs), coordinator("takeover", "b", periodMs)];
    const unit = { processor: "takeover", segment: 0 };
    const [la, lb] = [a.lease(unit), b.lease(unit)];
    await a.start();
    await b.start();
    await sleep(periodMs / 2); // both have seen each other: a hand-off, if any, has begun
    await until(() => (la.fence() === null) !== (lb.fence() === null) && la.state !== "releasing" && lb.state !== "releasing");
    const [owner, standby] = la.state === "held" ? [a, b] : [b, a];
    const [ownerLease, standbyLease] = la.state === "held" ? [la, lb] : [lb, la];
    expect(ownerLease.fence()).not.toBeNull();
    expect(standbyLease.fence()).toBeNull();
    const token = ownerLease.token;
    owner.halt();
    const lapsed = await leaseExpiry(unit); // the halted owner's last renewal, plus the period
    await until(() => standbyLease.fence() !== null);
    expect(standbyLease.token).toBe(token + 1);
    // Judged on PostgreSQL's clock, not this process's: the new owner took the lease when it was taken
    // (expires_at - period), never before the old one lapsed, and within one period after it did.
    const takenAt = (await leaseExpiry(unit)) - periodMs;
    expect(takenAt).toBeGreaterThanOrEqual(lapsed);
    expect(takenAt - lapsed).toBeLessThan(periodMs);
    // The halted owner stops on its own once its lease's local deadline passes, before any further batch.
    await until(() => ownerLease.fence() === null, periodMs);
    await standby.stop();
  });

  it("a replica that joins gets its share handed off at a checkpoint; one that leaves hands its units back", async () => {
    const units = Array.from({ length: 8 }, (_, i) => ({ processor: `share-${i}`, segment: 0 }));
    const a = coordinator("share", "a", 600);
    for (const unit of units) a.lease(unit);
    await a.start();
    expect(a.held().length).toBe(8);
    const b = coordinator("share", "b", 600);
    for (const unit of units) b.lease(unit);
    await b.start();
    await until(() => a.held().length + b.held().length === 8 && b.held().length > 0 && a.held().length > 0);
    const tokens = await new LeaseStore(db.pool).leases(units.map((u) => u.processor));
    expect(tokens.filter((l) => l.owner === "b").every((l) => l.token === 2)).toBe(true);
    await b.stop();
    await until(() => a.held().length === 8);
    await a.stop();
    expect((await new LeaseStore(db.pool).leases(units.map((u) => u.processor))).every((l) => l.owner === null)).toBe(true);
  });
});

describe("a reactor with two replicas", () => {
  it("runs once per event: one owner drives it, the other stands by, and a hand-off loses or repeats nothing", async () => {
    const handled = new Map<string, number>();
    const definition = { name: "once", eventTypes: ["Once"], handle: async (e: RecordedEvent) => void handled.set(e.eventId, (handled.get(e.eventId) ?? 0) + 1) };
    const replicas: Array<{ leases: LeaseCoordinator; processor: LogProcessor }> = [];
    const startReplica = async (member: string) => {
      const leases = coordinator("once", member, 600);
      const processor = reactor(definition, { store: db.store, checkpointer: new PostgresCheckpointer(db.pool), log: silentLogger(), leases }, { idleMs: 20 });
      await leases.start();
      processor.start();
      replicas.push({ leases, processor });
      return { leases, processor };
    };
    const stopReplica = async ({ leases, processor }: { leases: LeaseCoordinator; processor: LogProcessor }) => {
      await leases.stop();
      await processor.stop();
    };
    const one = await startReplica("one");
    const two = await startReplica("two");
    let appended = 0;
    for (let round = 0; round < 10; round++) {
      appended += (await append("Once", 5)).length;
      if (round === 4) await stopReplica(one.leases.held().length ? one : two); // the owner leaves: hand-off
    }
    await until(() => handled.size === appended);
    await sleep(200);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(handled.size).toBe(appended);
    for (const replica of replicas) await stopReplica(replica);
  });
});
