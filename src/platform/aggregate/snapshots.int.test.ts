import { z } from "zod";
import { createTestDatabase, type TestDatabase } from "../../../test/support/testEnv";
import { EventRegistry } from "../eventstore/eventRegistry";
import { eventType } from "../eventstore/eventSchemas";
import { EventStore } from "../eventstore/eventStore";
import type { DomainEvent } from "../eventstore/types";
import { CommandHandler, type CommandHandlerOptions } from "./commandHandler";
import type { Decider } from "./decider";

/** A tally of words: state that grows with the stream, as an aggregate's does. */
type Say = { type: "Say"; word: string };
type Said = DomainEvent<"Said", { word: string }>;
type Tally = { count: number; words: Record<string, number>; last: string | null };
const tally: Decider<Say, Said, Tally> = {
  initialState: { count: 0, words: {}, last: null },
  stateVersion: "tally@1",
  decide: (c) => [{ type: "Said", data: { word: c.word } }],
  evolve: (s, e) => ({ count: s.count + 1, words: { ...s.words, [e.data.word]: (s.words[e.data.word] ?? 0) + 1 }, last: e.data.word }),
};

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

let commandNo = 0;
const ctx = () => ({ commandId: `cmd-${++commandNo}`, actor: "test" });
const words = ["tea", "coffee", "water", "juice"];

const said = new Map<string, number>();

/** The stream's next `n` words, in the order stateAt assumes; each command's snapshot is written before the next runs. */
async function say(handler: CommandHandler<Say, Said, Tally>, streamId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const version = said.get(streamId) ?? 0;
    await handler.handle(streamId, { type: "Say", word: words[version % words.length]! }, ctx());
    said.set(streamId, version + 1);
    await handler.snapshotsSettled();
  }
}

function handlerFor(decider: Decider<Say, Said, Tally>, options: Partial<CommandHandlerOptions> = {}) {
  return new CommandHandler(db.store, decider, { snapshotEvery: 5, ...options });
}

it("takes a snapshot once `snapshotEvery` events were folded beyond the last one", async () => {
  const handler = handlerFor(tally);
  await say(handler, "policy", 4);
  expect(await db.store.snapshots.find("policy")).toBeNull();
  await say(handler, "policy", 1);
  expect(await db.store.snapshots.find("policy")).toMatchObject({ streamVersion: 5, stateVersion: handler.snapshotKey });
  await say(handler, "policy", 4);
  expect(await db.store.snapshots.find("policy")).toMatchObject({ streamVersion: 5 });
  await say(handler, "policy", 3);
  const snapshot = await db.store.snapshots.find("policy");
  expect(snapshot).toMatchObject({ streamVersion: 10 });
  expect(snapshot!.state).toEqual(stateAt(10));
});

function stateAt(version: number): Tally {
  const events = Array.from({ length: version }, (_, i): Said => ({ type: "Said", data: { word: words[i % words.length]! } }));
  return events.reduce(tally.evolve, tally.initialState);
}

it("loads from the snapshot plus the events after it, equal to folding from the start at every version", async () => {
  const handler = handlerFor(tally, { snapshotEvery: 3 });
  for (let i = 1; i <= 14; i++) {
    await say(handler, "equal", 1);
    const loaded = await handler.load("equal");
    const scratch = await handler.loadFromStart("equal");
    expect({ state: loaded.state, version: loaded.version }).toEqual({ state: scratch.state, version: scratch.version });
    expect(loaded.events.length).toBe(i - loaded.snapshotVersion);
  }
  expect((await handler.load("equal")).snapshotVersion).toBe(12);
});

it("really uses the snapshot: a tampered one shows through until it is rebuilt from the log", async () => {
  const handler = handlerFor(tally);
  await say(handler, "tampered", 7);
  const { state } = await handler.load("tampered");
  await db.store.snapshots.save("tampered", 7, handler.snapshotKey!, { ...state, count: 1000 });
  expect((await handler.load("tampered")).state.count).toBe(1000);
  expect(await handler.rebuildSnapshot("tampered")).toBe(7);
  expect((await handler.load("tampered")).state).toEqual(state);
  expect((await db.store.snapshots.find("tampered"))!.state).toEqual(state);
});

it("ignores a snapshot of another state version, folds from the start, and replaces it", async () => {
  const v1 = handlerFor(tally);
  await say(v1, "stale", 6);
  const v1Snapshot = await db.store.snapshots.find("stale");
  expect(v1Snapshot).toMatchObject({ streamVersion: 5, stateVersion: v1.snapshotKey });

  // The code changed the state's shape: counts are now kept as a list of words.
  type TallyV2 = { words: string[] };
  const tallyV2: Decider<Say, Said, TallyV2> = {
    initialState: { words: [] },
    stateVersion: "tally@2",
    decide: (c) => [{ type: "Said", data: { word: c.word } }],
    evolve: (s, e) => ({ words: [...s.words, e.data.word] }),
  };
  const v2 = new CommandHandler(db.store, tallyV2, { snapshotEvery: 5 });
  expect(v2.snapshotKey).not.toBe(v1.snapshotKey);
  const loaded = await v2.load("stale");
  expect(loaded).toMatchObject({ snapshotVersion: 0, version: 6, state: { words: ["tea", "coffee", "water", "juice", "tea", "coffee"] } });
  await v2.handle("stale", { type: "Say", word: "milk" }, ctx());
  await v2.snapshotsSettled();
  expect(await db.store.snapshots.find("stale")).toMatchObject({ streamVersion: 7, stateVersion: v2.snapshotKey, state: { words: expect.arrayContaining(["milk"]) } });
});

it("ignores snapshots folded before an event type got a new version", async () => {
  const saidV1 = z.object({ word: z.string() });
  const before = new EventRegistry([{ name: "talk", events: { Said: eventType(saidV1) } }]);
  const after = new EventRegistry([
    { name: "talk", events: { Said: eventType(saidV1).then(saidV1.extend({ loud: z.boolean() }), (d) => ({ ...d, loud: false })) } },
  ]);
  const old = new CommandHandler(new EventStore(db.pool, { registry: before }), tally, { snapshotEvery: 5 });
  await say(old, "upcast", 5);
  expect(await db.store.snapshots.find("upcast")).toMatchObject({ streamVersion: 5, stateVersion: old.snapshotKey });
  const upgraded = new CommandHandler(new EventStore(db.pool, { registry: after }), tally, { snapshotEvery: 5 });
  expect(upgraded.snapshotKey).not.toBe(old.snapshotKey);
  expect(await upgraded.load("upcast")).toMatchObject({ snapshotVersion: 0, version: 5, state: stateAt(5) });
});

it("a decider without a stateVersion, or snapshotEvery 0, never snapshots", async () => {
  const { stateVersion: _, ...unversioned } = tally;
  await say(handlerFor(unversioned), "no-version", 6);
  await say(handlerFor(tally, { snapshotEvery: 0 }), "no-policy", 6);
  expect(await db.store.snapshots.find("no-version")).toBeNull();
  expect(await db.store.snapshots.find("no-policy")).toBeNull();
});

it("a snapshot that cannot be taken fails nothing: the command succeeds and the error is reported", async () => {
  // A Date does not survive JSON: such a state must never be cached.
  const dated: Decider<Say, Said, { at: Date | null; count: number }> = {
    initialState: { at: null, count: 0 },
    stateVersion: "dated@1",
    decide: (c) => [{ type: "Said", data: { word: c.word } }],
    evolve: (s) => ({ at: new Date(0), count: s.count + 1 }),
  };
  const errors: string[] = [];
  const handler = new CommandHandler(db.store, dated, { snapshotEvery: 2, onSnapshotError: (stream, e) => errors.push(`${stream}: ${String(e)}`) });
  for (let i = 0; i < 3; i++) {
    await expect(handler.handle("dated", { type: "Say", word: "x" }, ctx())).resolves.toMatchObject({ streamVersion: i + 1 });
  }
  await handler.snapshotsSettled();
  expect(errors).toEqual([expect.stringMatching(/^dated: .*not plain JSON/), expect.stringMatching(/^dated: .*not plain JSON/)]);
  expect(await db.store.snapshots.find("dated")).toBeNull();
  expect((await handler.load("dated")).state.count).toBe(3);
});

it("cleared snapshots only cost a full fold, and the policy takes a new one", async () => {
  const handler = handlerFor(tally);
  await say(handler, "cleared", 6);
  expect(await db.store.snapshots.clear("cleared")).toBe(1);
  expect(await handler.load("cleared")).toMatchObject({ snapshotVersion: 0, version: 6, state: stateAt(6) });
  // A handler that loads the stream (a restarted process, or one without its state cached) takes one on its next command...
  await say(handlerFor(tally), "cleared", 1);
  expect(await db.store.snapshots.find("cleared")).toMatchObject({ streamVersion: 7, state: stateAt(7) });
  // ...and one that keeps the stream's state cached takes one when its own count says so: 5 beyond the one it took at 5.
  expect(await db.store.snapshots.clear("cleared")).toBe(1);
  await say(handler, "cleared", 2);
  expect(await db.store.snapshots.find("cleared")).toBeNull();
  await say(handler, "cleared", 1);
  expect(await db.store.snapshots.find("cleared")).toMatchObject({ streamVersion: 10, state: stateAt(10) });
});
