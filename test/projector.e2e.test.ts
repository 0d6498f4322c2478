import type { Redis } from "ioredis";
import { PRODUCTS, productsProjection } from "../projections/inventory/products/projection";
import { formatLogPosition } from "../src/platform/eventstore/logPosition";
import { FIRST_GENERATION, ReadModelKeys } from "../src/platform/projection/keys";
import { parseCheckpoint } from "../src/platform/processing/redisCheckpointer";
import { projectGeneration } from "../src/platform/projection/rebuild";
import { snapshotGeneration } from "./support/readModelSnapshot";
import { spawnRole } from "./support/processes";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase } from "./support/testEnv";

/**
 * GUIDE rule 4: a projector killed at any moment (SIGKILL, no cleanup) and
 * restarted leaves read models exactly equal to a from-scratch projection.
 */
const PRODUCT_COUNT = 20;
const EVENTS = 2000;
const meta = { correlationId: "c", causationId: "c", actor: "test" };

let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  keys = new ReadModelKeys(testPrefix());
  for (let p = 0; p < PRODUCT_COUNT; p++) {
    const sku = `SKU-${p}`;
    await db.store.append(`inventory.product-${sku}`, "no_stream", [
      { type: "ProductDefined", data: { sku, name: `Product ${p}`, priceMinor: 100 + p, currency: "EUR", initialStock: 10 }, metadata: meta },
    ]);
  }
  for (let i = PRODUCT_COUNT; i < EVENTS; i++) {
    const sku = `SKU-${i % PRODUCT_COUNT}`;
    const event =
      i % 3 === 0
        ? { type: "StockRestocked", data: { sku, quantity: 2 } }
        : i % 3 === 1
          ? { type: "StockReserved", data: { sku, orderId: `o-${i}`, quantity: 1 } }
          : { type: "StockReservationCommitted", data: { sku: `SKU-${(i - 1) % PRODUCT_COUNT}`, orderId: `o-${i - 1}`, quantity: 1 } };
    await db.store.append(`inventory.product-${event.data.sku}`, "any", [{ ...event, metadata: meta }]);
  }
});

afterAll(async () => {
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await db.drop();
});

async function checkpoint(): Promise<string> {
  return formatLogPosition(parseCheckpoint(await redis.get(keys.generation(PRODUCTS, FIRST_GENERATION).checkpoint)));
}

async function untilCaughtUp(head: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await checkpoint()) !== head) {
    if (Date.now() > deadline) throw new Error(`projector stuck at ${await checkpoint()}, head ${head}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("a projector killed mid-run and restarted converges to the from-scratch read model", async () => {
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    EVENTLINE_PREFIX: keys.prefix,
    PROJECTOR_BATCH_SIZE: "10", // many small batches, so the kill lands mid-run
  };
  const { rows } = await db.pool.query(
    "SELECT transaction_id::text || '.' || global_position AS head FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
  );
  const head = rows[0].head as string;

  const first = spawnRole("projector", env);
  await first.waitFor(/ready \(projector\)/);
  while ((await checkpoint()) === "0.0") await new Promise((r) => setTimeout(r, 5));
  await first.stop("SIGKILL");
  const atKill = await checkpoint();
  expect(atKill).not.toBe(head); // killed before the end

  const second = spawnRole("projector", env);
  await untilCaughtUp(head);
  expect(await second.stop()).toBe(0);

  const scratch = FIRST_GENERATION + 100;
  const started = performance.now();
  const projected = await projectGeneration(redis, db.store, keys, productsProjection, scratch);
  const seconds = (performance.now() - started) / 1000;
  // Shown, not asserted: figures belong in bench/.
  console.log(`from-scratch projection: ${projected} events in ${seconds.toFixed(2)} s (${Math.round(projected / seconds)} events/s)`);
  const live = await snapshotGeneration(redis, keys, PRODUCTS, FIRST_GENERATION);
  const fromScratch = await snapshotGeneration(redis, keys, PRODUCTS, scratch);
  expect(Object.keys(live.docs)).toHaveLength(PRODUCT_COUNT);
  expect(live).toEqual(fromScratch);
});
