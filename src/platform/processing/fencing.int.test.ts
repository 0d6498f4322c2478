import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { snapshotGeneration } from "../../../test/support/readModelSnapshot";
import { tallies } from "../../../test/support/tallyProjection";
import { formatLogPosition, LOG_START } from "../eventstore/logPosition";
import { ReadModelKeys } from "../projection/keys";
import { ProjectionRunner } from "../projection/projectionRunner";
import { CheckpointedStep, type ReactorDefinition } from "./checkpointedStep";
import type { Fence } from "./checkpointer";
import { PostgresCheckpointer } from "./postgresCheckpointer";

// Lease fencing at the checkpointer: a lease owner that lost its lease (paused, partitioned, slow) and
// comes back must not commit, even from the right checkpoint. Its token is lower than the one stored by
// the new owner. The fence lives in the store (a Lua script, one SQL statement): tested against it.
const meta = { correlationId: "c", causationId: "c", actor: "test" };
let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  keys = new ReadModelKeys(testPrefix());
  for (let n = 1; n <= 30; n++) await db.store.append(`tally-${n % 3}`, "any", [{ type: "Added", data: { n }, metadata: meta }]);
  await waitForLogVisible(db);
});

afterAll(async () => {
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await db.drop();
});

/** A lease as the owner sees it: its token, which it may hold after it was taken over. */
const lease = (token: number) => {
  const fence: Fence = { token };
  return () => fence;
};

it("projection: a stale owner's batch is refused (FENCED) and writes nothing, though it starts at the stored checkpoint", async () => {
  const runner = (token: number) => new ProjectionRunner(redis, db.store, keys, tallies, { batchSize: 10, target: { kind: "active" }, fence: lease(token) });
  const stale = runner(1);
  const owner = runner(2);
  expect(await stale.step()).toMatchObject({ kind: "applied", events: 10 });
  expect(await owner.step()).toMatchObject({ kind: "applied", events: 10 }); // took over from the same checkpoint

  const gen = keys.generation(tallies.name, 1);
  const before = await snapshotGeneration(redis, keys, tallies.name, 1);
  const checkpoint = await redis.get(gen.checkpoint);
  expect(await stale.step()).toEqual({ kind: "superseded", fenced: true });
  expect(await snapshotGeneration(redis, keys, tallies.name, 1)).toEqual(before);
  expect(await redis.get(gen.checkpoint)).toBe(checkpoint);
  expect(await redis.get(gen.fence)).toBe("2");

  expect(await owner.step()).toMatchObject({ kind: "applied", events: 10 });
  expect(await owner.step()).toMatchObject({ kind: "idle" });
});

it("reactor: a stale owner's store is refused (FENCED) in PostgreSQL; the new owner's is not", async () => {
  const checkpointer = new PostgresCheckpointer(db.pool);
  const handled: Array<{ token: number; eventId: string }> = [];
  const step = (token: number) => {
    const definition: ReactorDefinition = { name: "fenced", eventTypes: ["Added"], handle: async (e) => void handled.push({ token, eventId: e.eventId }) };
    return new CheckpointedStep(definition, db.store, checkpointer, { batchSize: 10, maxEventAttempts: 3, fence: lease(token) });
  };
  const stale = step(1);
  const owner = step(2);
  expect(await stale.step()).toMatchObject({ kind: "applied", events: 10 });
  expect(await owner.step()).toMatchObject({ kind: "applied", events: 10 });
  const stored = formatLogPosition(await checkpointer.read("fenced"));

  // The stale owner's effects may run (at least once, as any reaction), but its checkpoint does not move.
  expect(await stale.step()).toEqual({ kind: "superseded", fenced: true });
  expect(formatLogPosition(await checkpointer.read("fenced"))).toBe(stored);
  expect(await owner.step()).toMatchObject({ kind: "applied", events: 10 });

  // Directly: a lower token is FENCED, a wrong checkpoint with a good token is a MISMATCH, no fence is unchecked.
  const at = await checkpointer.read("fenced");
  const later = { transactionId: at.transactionId + 1n, globalPosition: 0n };
  expect(await checkpointer.store("fenced", at, later, { token: 1 })).toEqual({ success: false, reason: "FENCED" });
  expect(await checkpointer.store("fenced", LOG_START, later, { token: 2 })).toEqual({ success: false, reason: "MISMATCH" });
  expect(await checkpointer.store("fenced", at, later, { token: 3 })).toEqual({ success: true, checkpoint: later });
  const { rows } = await db.pool.query<{ token: string }>("SELECT fence_token::text AS token FROM subscription_checkpoints WHERE name = 'fenced'");
  expect(rows[0]?.token).toBe("3");
  expect(handled.filter((h) => h.token === 2).length).toBe(20);
});
