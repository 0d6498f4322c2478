import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { ErrorCode } from "../core/errors";
import { LOG_START } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { FIRST_GENERATION, ReadModelKeys } from "./keys";
import { ReadModelStore } from "./readModelStore";
import { projectGeneration } from "./rebuild";
import type { DocumentProjection } from "./types";
import { historyProjection } from "./historyProjection";
import { correlationTrail, documentTrail, pastState } from "./historyReader";

/** A tally per key, moved by two streams: `Added` on deposits-<key>, `Removed` on withdrawals-<key>. */
interface Tally {
  key: string;
  total: number;
  events: number;
}
const tallies: DocumentProjection<Tally> = {
  name: "tallies",
  eventTypes: ["Added", "Removed"],
  history: true,
  documentIds: (e) => [(e.data as { key: string }).key],
  evolve: (doc, e, id) => {
    const { amount } = e.data as { amount: number };
    return { key: id, total: (doc?.total ?? 0) + (e.type === "Added" ? amount : -amount), events: (doc?.events ?? 0) + 1 };
  },
};
const EVENTS = 230; // more than two pages of the history index
const at = (i: number) => new Date(Date.UTC(2030, 0, 1) + i * 1000).toISOString();

let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;
let readModels: ReadModelStore;
let log: RecordedEvent[];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  keys = new ReadModelKeys(testPrefix());
  readModels = new ReadModelStore(redis, keys);
  for (let i = 1; i <= EVENTS; i++) {
    const deposit = i % 3 !== 0;
    await db.store.append(deposit ? "deposits-k" : "withdrawals-k", "any", [{
      type: deposit ? "Added" : "Removed",
      data: { key: "k", amount: i },
      metadata: { correlationId: `req-${i % 2}`, causationId: "test", actor: "test", recordedAt: at(i) },
    }]);
  }
  await db.store.append("deposits-other", "any", [{ type: "Added", data: { key: "other", amount: 7 }, metadata: { correlationId: "req-x", causationId: "t", actor: "t" } }]);
  await waitForLogVisible(db);
  log = (await db.store.readAll(LOG_START, 1000)).events;
  await projectGeneration(redis, db.store, keys, historyProjection([tallies]), FIRST_GENERATION);
  await projectGeneration(redis, db.store, keys, tallies, FIRST_GENERATION);
});

afterAll(async () => {
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await db.drop();
});

const ofK = () => log.filter((e) => (e.data as { key: string }).key === "k");
const foldFirst = (n: number) => ofK().slice(0, n).reduce<Tally | null>((doc, e) => tallies.evolve(doc, e, "k"), null);

it("folds a past version from both streams, across pages of the history", async () => {
  expect(await pastState(readModels, tallies, "Tally", "k", { kind: "version", version: 1 })).toEqual({ key: "k", total: 1, events: 1 });
  expect(await pastState(readModels, tallies, "Tally", "k", { kind: "version", version: 150 })).toEqual(foldFirst(150));
  // The last version is what the live read model holds.
  expect(await pastState(readModels, tallies, "Tally", "k", { kind: "version", version: EVENTS })).toEqual(await readModels.get("tallies", "k"));
});

it("folds the state at a moment", async () => {
  expect(await pastState(readModels, tallies, "Tally", "k", { kind: "at", at: new Date(Date.parse(at(120)) + 500) })).toEqual(foldFirst(120));
  expect(await pastState(readModels, tallies, "Tally", "k", { kind: "at", at: new Date(at(0)) })).toBeNull();
});

it("refuses an unknown document and a version it never had", async () => {
  await expect(pastState(readModels, tallies, "Tally", "nobody", { kind: "version", version: 1 })).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  await expect(pastState(readModels, tallies, "Tally", "k", { kind: "version", version: EVENTS + 1 })).rejects.toMatchObject({
    code: ErrorCode.VALIDATION,
    details: { field: "asOf.version", expected: expect.stringContaining(`1 to ${EVENTS}`) },
  });
});

it("pages a document's trail, and stops it at a past position", async () => {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; ; pages++) {
    const page: Awaited<ReturnType<typeof documentTrail>> = await documentTrail(readModels, "tallies", "k", { first: 100, after });
    expect(page.totalCount).toBe(EVENTS);
    seen.push(...page.edges.map((e) => e.node.eventId));
    if (!page.pageInfo.hasNextPage) {
      expect(pages).toBe(2);
      break;
    }
    after = page.pageInfo.endCursor;
  }
  expect(seen).toEqual(ofK().map((e) => e.eventId));

  const cut = ofK()[149]!;
  const upTo = `${cut.position.transactionId}.${cut.position.globalPosition}`;
  const first = await documentTrail(readModels, "tallies", "k", { first: 100, upToPosition: upTo });
  const second = await documentTrail(readModels, "tallies", "k", { first: 100, after: first.pageInfo.endCursor, upToPosition: upTo });
  expect([first.totalCount, first.pageInfo.hasNextPage, second.edges.length, second.pageInfo.hasNextPage]).toEqual([150, true, 50, false]);
  expect(second.edges.at(-1)!.node.eventId).toBe(cut.eventId);
});

it("lists a correlation's events in commit order", async () => {
  const page = await correlationTrail(readModels, "req-1", { first: 100 });
  const expected = log.filter((e) => e.metadata.correlationId === "req-1").map((e) => e.eventId);
  expect(page.totalCount).toBe(expected.length);
  expect(page.edges.map((e) => e.node.eventId)).toEqual(expected.slice(0, 100));
  expect(page.edges[0]!.node).toMatchObject({ type: "Added", streamId: "deposits-k", data: { key: "k", amount: 1 }, metadata: { correlationId: "req-1" } });
});
