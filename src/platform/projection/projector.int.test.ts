import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase } from "../../../test/support/testEnv";
import { FIRST_GENERATION, ReadModelKeys } from "./keys";
import { Projector } from "./projector";
import type { DocumentProjection } from "./types";
import { silentLogger } from "../observability/logger";

/**
 * GUIDE rule 5: jobs are wake-ups, not data. Here no wake-up is ever sent;
 * the periodic catch-up alone must bring the read model to the head of the log.
 */
const counts: DocumentProjection<{ n: number }> = {
  name: "counts",
  eventTypes: ["Counted"],
  documentIds: (e) => [e.streamId],
  evolve: (doc) => ({ n: (doc?.n ?? 0) + 1 }),
};
const meta = { correlationId: "c", causationId: "c", actor: "test" };

let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;
let projector: Projector;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  keys = new ReadModelKeys(testPrefix());
  projector = new Projector({ store: db.store, redisUrl: TEST_REDIS_URL, keys, projections: [counts], log: silentLogger() }, {
    catchUpEveryMs: 200,
    batchSize: 7,
  });
  await projector.start();
});

afterAll(async () => {
  await projector.stop();
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await db.drop();
});

it("a lost wake-up only delays: the catch-up schedule projects every event", async () => {
  for (let i = 0; i < 30; i++) await db.store.append(`s-${i % 3}`, "any", [{ type: "Counted", data: {}, metadata: meta }]);
  const gen = keys.generation("counts", FIRST_GENERATION);
  const deadline = Date.now() + 20_000;
  let docs: Array<string | null> = [];
  while (Date.now() < deadline) {
    docs = await redis.mget(gen.doc("s-0"), gen.doc("s-1"), gen.doc("s-2"));
    if (docs.every((d) => d && JSON.parse(d).n === 10)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(docs.map((d) => (d ? JSON.parse(d).n : null))).toEqual([10, 10, 10]);
});
