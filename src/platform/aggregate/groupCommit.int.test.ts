import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import { type Add, type Added, counterDecider } from "../../../test/support/counterDecider";
import { DomainError, ErrorCode } from "../core/errors";
import type { CommandAppend, GroupAppendOutcome } from "../eventstore/commandGroupAppend";
import { EventStore } from "../eventstore/eventStore";
import type { RecordedEvent } from "../eventstore/types";
import { CommandHandler } from "./commandHandler";
import { fingerprintOf } from "./idempotency";

/** Counts group appends (and the commands in each) and stream reads; can run something between the idempotency check and the append. */
class WatchedStore extends EventStore {
  groups: number[] = [];
  reads = 0;
  afterCheck: (() => Promise<unknown>) | undefined;
  override async appendCommands(streamId: string, expected: number, commands: readonly CommandAppend[]): Promise<GroupAppendOutcome> {
    this.groups.push(commands.length);
    return super.appendCommands(streamId, expected, commands);
  }
  override async findCommandResults(commandIds: readonly string[]): ReturnType<EventStore["findCommandResults"]> {
    const found = await super.findCommandResults(commandIds);
    const between = this.afterCheck;
    this.afterCheck = undefined;
    await between?.();
    return found;
  }
  override readStream(...args: Parameters<EventStore["readStream"]>): Promise<RecordedEvent[]> {
    this.reads++;
    return super.readStream(...args);
  }
}

let db: TestDatabase;
let store: WatchedStore;
beforeAll(async () => {
  db = await createTestDatabase();
  store = new WatchedStore(db.pool);
});
afterAll(() => db.drop());

const ctx = (commandId: string) => ({ commandId, actor: "test" });
const add = (amount: number): Add => ({ type: "Add", amount });
const stored = async (streamId: string) => (await db.store.readStream(streamId)).map((e) => ({ v: e.streamVersion, ...(e.data as Added["data"]) }));
const codeOf = (result: PromiseSettledResult<unknown>) => (result.status === "rejected" ? (result.reason as DomainError).code : "ok");

it("N concurrent commands on one stream: N outcomes, fewer appends, a gap-free stream, each decided on the ones before it", async () => {
  const handler = new CommandHandler(store, counterDecider);
  store.groups = [];
  const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => handler.handle("many", add(1), ctx(`many-${i}`))));
  expect(outcomes.map((o) => o.streamVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  expect(new Set(outcomes.map((o) => o.position?.globalPosition)).size).toBe(40); // each its own last event
  expect(outcomes.every((o) => o.events.length === 1 && !o.duplicate)).toBe(true);
  expect(await stored("many")).toEqual(Array.from({ length: 40 }, (_, i) => ({ v: i + 1, amount: 1, total: i + 1 })));
  // The first ran alone; the 39 that queued meanwhile went out as one group.
  expect(store.groups).toEqual([39]);
  // Each command's idempotency record points at its own event.
  const recorded = await db.store.findCommandResults(outcomes.map((o) => o.commandId));
  for (const o of outcomes) expect(recorded.get(o.commandId)?.streamVersion).toBe(o.streamVersion);
});

it("a refused command in the middle of a group gets its typed error and no event; the others succeed", async () => {
  const handler = new CommandHandler(store, counterDecider);
  await handler.handle("refused", add(990), ctx("refused-0"));
  store.groups = [];
  const results = await Promise.allSettled([
    handler.handle("refused", add(1), ctx("refused-1")), // alone, or in the group (if the queue had not emptied yet)
    handler.handle("refused", add(4), ctx("refused-2")),
    handler.handle("refused", add(10), ctx("refused-3")), // 995 + 10 passes the limit
    handler.handle("refused", add(5), ctx("refused-4")),
  ]);
  expect(results.map(codeOf)).toEqual(["ok", "ok", "LIMIT", "ok"]);
  expect([[2], [3]]).toContainEqual(store.groups); // one group append, without the refused command
  expect(await stored("refused")).toEqual([
    { v: 1, amount: 990, total: 990 },
    { v: 2, amount: 1, total: 991 },
    { v: 3, amount: 4, total: 995 },
    { v: 4, amount: 5, total: 1000 },
  ]);
  expect(await db.store.findCommandResult("refused-3")).toBeNull(); // refused: nothing recorded, a resend decides again
});

it("duplicate commandIds in one group: the resend answers with the first's result, a different command under the key is refused", async () => {
  const handler = new CommandHandler(store, counterDecider);
  store.groups = [];
  const results = await Promise.allSettled([
    handler.handle("dups", add(1), ctx("dups-0")),
    handler.handle("dups", add(2), ctx("dups-1")),
    handler.handle("dups", add(3), ctx("dups-2")),
    handler.handle("dups", add(2), ctx("dups-1")), // same command again
    handler.handle("dups", add(7), ctx("dups-1")), // another command reusing the key
    handler.handle("dups", add(1), ctx("dups-0")), // recorded before this group started
  ]);
  expect(results.map(codeOf)).toEqual(["ok", "ok", "ok", "ok", ErrorCode.IDEMPOTENCY_KEY_REUSED, "ok"]);
  const outcomes = results.map((r) => (r.status === "fulfilled" ? r.value : null));
  expect(outcomes[3]).toMatchObject({ duplicate: true, streamVersion: outcomes[1]?.streamVersion, position: outcomes[1]?.position, events: [] });
  expect(outcomes[3]?.eventTypes).toEqual(["Added"]);
  expect(outcomes[5]).toMatchObject({ duplicate: true, streamVersion: 1, position: outcomes[0]?.position });
  expect(store.groups).toEqual([2]);
  expect(await stored("dups")).toEqual([
    { v: 1, amount: 1, total: 1 },
    { v: 2, amount: 2, total: 3 },
    { v: 3, amount: 3, total: 6 },
  ]);
});

it("a commandId recorded by another process between the check and the append: that command answers with its record, the rest append", async () => {
  const handler = new CommandHandler(store, counterDecider);
  await handler.handle("raced", add(1), ctx("raced-0"));
  const stolen = { command: add(2), context: ctx("raced-2") };
  // Another process applied the same command (to a stream of its own): its record now holds the key, the stream did not move.
  store.afterCheck = () =>
    db.store.append("raced-elsewhere", "any", [{ type: "Added", data: { amount: 2, total: 2 }, metadata: { correlationId: "x", causationId: "x", actor: "test" } }], {
      commandId: "raced-2",
      actor: "test",
      fingerprint: fingerprintOf(stolen.command, {}), // no fingerprint from the sender: the command's own
    });
  store.groups = [];
  const pending = [handler.handle("raced", add(1), ctx("raced-1")), handler.handle("raced", add(3), ctx("raced-3"))];
  const group = [handler.handle("raced", add(2), ctx("raced-2")), handler.handle("raced", add(4), ctx("raced-4"))];
  const outcomes = await Promise.all([...pending, ...group]);
  expect(outcomes.map((o) => o.duplicate)).toEqual([false, false, true, false]);
  expect(outcomes[2]).toMatchObject({ streamId: "raced-elsewhere", streamVersion: 1 });
  expect((await stored("raced")).map((e) => e.total)).toEqual([1, 2, 5, 9]);
});

it("another process appends between groups: the group is decided again on fresh state, without spending an attempt, and the cache is right afterwards", async () => {
  const a = new CommandHandler(store, counterDecider, { maxAttempts: 1 }); // a stale cache must not spend the only attempt
  const other = new CommandHandler(new EventStore(db.pool), counterDecider); // another process's view
  await a.handle("shared", add(1), ctx("shared-a0"));
  // Lands after the group's idempotency check, so the group decides on a's cached state (version 2), which is stale by then.
  store.afterCheck = () => other.handle("shared", add(10), ctx("shared-b1"));
  store.groups = [];
  const outcomes = await Promise.all([1, 2, 3, 4].map((n) => a.handle("shared", add(n * 10), ctx(`shared-a${n}`))));
  // The group conflicted once, then went out on fresh state.
  expect(store.groups).toHaveLength(2);
  expect(store.groups[0]).toBeGreaterThanOrEqual(3);
  expect(store.groups[1]).toBe(store.groups[0]);
  expect(outcomes.map((o) => o.streamVersion).slice(1)).toEqual([4, 5, 6]);
  expect((await stored("shared")).map((e) => e.total)).toEqual([1, 11, 21, 41, 71, 111]);
  // The cached state is the stream's: the next command reads nothing and decides on 111.
  const reads = store.reads;
  const next = await a.handle("shared", add(889), ctx("shared-a5"));
  expect(store.reads).toBe(reads);
  expect(next.events[0]?.data).toEqual({ amount: 889, total: 1000 });
  await expect(a.handle("shared", add(1), ctx("shared-a6"))).rejects.toMatchObject({ code: "LIMIT" });
});
