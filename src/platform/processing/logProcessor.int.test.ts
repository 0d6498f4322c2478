import { createTestDatabase, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { compareLogPositions, formatLogPosition, LOG_START, type LogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { silentLogger } from "../observability/logger";
import { CheckpointedStep, type ReactorDefinition } from "./checkpointedStep";
import { ProcessorEventError } from "./errors";
import { PostgresCheckpointer, readPostgresCheckpoint } from "./postgresCheckpointer";
import { reactor } from "./reactor";
import { LocalWakeups } from "./wakeups";

const meta = { correlationId: "c", causationId: "c", actor: "test" };
let db: TestDatabase;
let checkpointer: PostgresCheckpointer;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  checkpointer = new PostgresCheckpointer(db.pool);
});

afterAll(() => db.drop());

async function append(type: string, count: number): Promise<RecordedEvent[]> {
  const stream = `s-${++seq}`;
  await db.store.append(stream, "no_stream", Array.from({ length: count }, (_, n) => ({ type, data: { n }, metadata: meta })));
  await waitForLogVisible(db);
  return db.store.readStream(stream);
}

function recorder(name: string, types: readonly string[] | "all" = ["Ping"]) {
  const seen: string[] = [];
  const definition: ReactorDefinition = { name, eventTypes: types, handle: async (e) => void seen.push(e.eventId) };
  return { seen, definition };
}

const at = (e: RecordedEvent | undefined): LogPosition => e?.position ?? LOG_START;

describe("PostgresCheckpointer", () => {
  it("compares and sets: a stale or backward store is refused and the checkpoint never moves back", async () => {
    const [a, b] = await append("Ping", 2);
    expect(await checkpointer.store("cas", LOG_START, at(b))).toEqual({ success: true, checkpoint: at(b) });
    // A batch read at the start, committed late (another replica, a retried job): refused.
    expect(await checkpointer.store("cas", LOG_START, at(a))).toEqual({ success: false, reason: "MISMATCH" });
    // From the right place but backwards: refused too.
    expect(await checkpointer.store("cas", at(b), at(a))).toEqual({ success: false, reason: "MISMATCH" });
    expect(formatLogPosition(await checkpointer.read("cas"))).toBe(formatLogPosition(at(b)));
  });
});

describe("CheckpointedStep", () => {
  it("handles only its types, then stores the batch's checkpoint", async () => {
    const pings = await append("Ping", 3);
    const others = await append("Other", 2);
    const { seen, definition } = recorder("typed");
    const step = new CheckpointedStep(definition, db.store, checkpointer, { batchSize: 1000, maxEventAttempts: 3 });
    const result = await step.step();
    expect(result.kind).toBe("applied");
    expect(seen.slice(-3)).toEqual(pings.map((e) => e.eventId));
    expect(seen.filter((id) => others.some((o) => o.eventId === id))).toEqual([]);
    expect((await step.step()).kind).toBe("idle");
    const stored = await readPostgresCheckpoint(db.pool, "typed");
    expect(stored && result.kind === "applied" && compareLogPositions(stored, result.checkpoint)).toBe(0);
  });

  it("tells what it read apart from what it handled, and that a batch short of its size reached the head", async () => {
    await append("Ping", 2);
    await append("Other", 3);
    const count = async (where: string) => Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM events ${where}`)).rows[0]!.n);
    const total = await count("");
    const pings = await count("WHERE type = 'Ping'");
    const { seen, definition } = recorder("paged");
    const step = new CheckpointedStep(definition, db.store, checkpointer, { batchSize: total - 1, maxEventAttempts: 3 });
    const full = await step.step();
    const last = await step.step();
    expect(full).toMatchObject({ kind: "applied", events: total - 1 });
    expect(full.kind === "applied" && full.atHead).toBeFalsy(); // a full batch: more may follow at once
    expect(last).toMatchObject({ kind: "applied", events: 1, atHead: true });
    const handled = [full, last].reduce((sum, r) => sum + (r.kind === "applied" ? r.handled : 0), 0);
    expect(handled).toBe(pings);
    expect(seen).toHaveLength(pings);
  });

  it("retries a failing event, committing the events before it, then parks it and commits past it", async () => {
    const start = await checkpointer.read("poison"); // LOG_START
    const events = await append("Ping", 3);
    const bad = events[1]!;
    const handled: string[] = [];
    const parked: string[] = [];
    const definition: ReactorDefinition = {
      name: "poison",
      eventTypes: ["Ping"],
      handle: async (e) => {
        if (e.eventId === bad.eventId) throw new Error("cannot handle this one");
        handled.push(e.eventId);
      },
    };
    const step = new CheckpointedStep(definition, db.store, checkpointer, { batchSize: 1000, maxEventAttempts: 3, onParked: (e) => parked.push(e.eventId) });
    // Earlier tests' Pings and this test's first are committed, then the step fails at the bad one; twice.
    await expect(step.step()).rejects.toBeInstanceOf(ProcessorEventError);
    await expect(step.step()).rejects.toBeInstanceOf(ProcessorEventError);
    // The events before the failing one are committed: the retry starts at the failing event.
    expect(formatLogPosition(await checkpointer.read("poison"))).toBe(formatLogPosition(events[0]!.position));
    expect(compareLogPositions(await checkpointer.read("poison"), start)).toBe(1);
    const third = await step.step();
    expect(third).toMatchObject({ kind: "applied", parked: [{ eventId: bad.eventId, error: "cannot handle this one" }] });
    expect(parked).toEqual([bad.eventId]);
    expect(handled.filter((id) => id === events[0]!.eventId)).toHaveLength(1); // the commit before the failure held
    expect(handled).toContain(events[2]!.eventId);
    expect(formatLogPosition(await checkpointer.read("poison"))).toBe(formatLogPosition(events[2]!.position));
  });

  it("refuses a stale batch: a step that read before another committed changes no checkpoint", async () => {
    await append("Ping", 2);
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const slow: ReactorDefinition = {
      name: "race",
      eventTypes: "all",
      handle: async () => {
        if (first) {
          first = false;
          await held;
        }
      },
    };
    const fast = recorder("race", "all").definition;
    const a = new CheckpointedStep(slow, db.store, checkpointer, { batchSize: 1000, maxEventAttempts: 3 });
    const b = new CheckpointedStep(fast, db.store, checkpointer, { batchSize: 1000, maxEventAttempts: 3 });
    const late = a.step();
    await new Promise((r) => setTimeout(r, 50));
    const won = await b.step();
    expect(won.kind).toBe("applied");
    await append("Ping", 1); // the stale batch would end before these: moving there would not be backward, only stale
    release();
    expect(await late).toEqual({ kind: "superseded" });
    expect(won.kind === "applied" && formatLogPosition(await checkpointer.read("race"))).toBe(won.kind === "applied" && formatLogPosition(won.checkpoint));
  });
});

describe("reactor", () => {
  it("follows the log, wakes early on a hint, and a restarted one resumes from its checkpoint", async () => {
    const log = silentLogger();
    const wakeups = new LocalWakeups();
    const first = recorder("resume");
    const before = await append("Ping", 2);
    const one = reactor(first.definition, { store: db.store, checkpointer, log, wakeups }, { idleMs: 60_000, quietMs: 60_000 });
    one.start();
    await until(() => before.every((e) => first.seen.includes(e.eventId)));
    const more = await append("Ping", 2);
    wakeups.wake(); // the idle pause is a minute: only the hint can deliver these in time
    await until(() => more.every((e) => first.seen.includes(e.eventId)));
    await one.stop();

    const after = await append("Ping", 2);
    const second = recorder("resume");
    const two = reactor(second.definition, { store: db.store, checkpointer, log }, { idleMs: 20 });
    two.start();
    await until(() => after.every((e) => second.seen.includes(e.eventId)));
    await two.stop();
    expect(second.seen).toEqual(after.map((e) => e.eventId));
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
