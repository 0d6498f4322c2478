import { isDeepStrictEqual } from "node:util";
import type { Redis } from "ioredis";
import { fromScratch } from "../../../test/support/fromScratch";
import { snapshotGeneration } from "../../../test/support/readModelSnapshot";
import { tallies } from "../../../test/support/tallyProjection";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, waitForLogVisible, type TestDatabase } from "../../../test/support/testEnv";
import { silentLogger } from "../observability/logger";
import { LeaseCoordinator } from "../processing/leaseCoordinator";
import { FIRST_GENERATION, ReadModelKeys } from "./keys";
import { Projector, projectionUnit } from "./projector";
import type { DocumentProjection } from "./types";
import { ProjectorWakeups } from "./wakeups";

/**
 * Decision 0026: projector replicas join and leave while events are appended;
 * every projection ends equal to a from-scratch fold, no batch is thrown away,
 * and no projection is ever driven by two replicas at once.
 */
const projections: DocumentProjection<unknown>[] = ["a", "b", "c", "d", "e", "f"].map((s) => ({ ...tallies, name: `tallies-${s}` }) as DocumentProjection<unknown>);
const meta = { correlationId: "c", causationId: "c", actor: "test" };
const PERIOD_MS = 600;

let db: TestDatabase;
let redis: Redis;
let keys: ReadModelKeys;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  keys = new ReadModelKeys(testPrefix());
});

afterAll(async () => {
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await db.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}

interface Replica {
  projector: Projector;
  leases: LeaseCoordinator;
}

async function startReplica(member: string): Promise<Replica> {
  const leases = new LeaseCoordinator(db.pool, { group: "projector", member, periodMs: PERIOD_MS, ordinal: null, replicas: 0 }, silentLogger());
  const projector = new Projector({ store: db.store, redisUrl: TEST_REDIS_URL, keys, projections, log: silentLogger(), leases }, { catchUpEveryMs: 150, batchSize: 5 });
  await projector.start();
  return { projector, leases };
}

it("rebalances from 1 to 2 to 3 replicas and back to 1 while events flow: exact read models, zero thrown-away batches, one driver per projection", async () => {
  const wakeupConnection = testRedis();
  const wakeups = new ProjectorWakeups(wakeupConnection, keys.prefix, projections);
  const replicas: Replica[] = [];
  const stopped: Replica[] = [];
  let writing = true;
  let appended = 0;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      await db.store.append(`t-${i % 7}`, "any", [{ type: "Added", data: { n: (i % 5) + 1 }, metadata: meta }]);
      appended += 1;
      wakeups.wake();
      await sleep(4);
    }
  })();
  // Sampled all along: a projection drivable by two replicas at once would be a double owner.
  let doubleOwners = 0;
  const sampler = setInterval(() => {
    for (const p of projections) {
      const unit = projectionUnit(p.name);
      const drivers = replicas.filter((r) => r.leases.lease(unit).fence() !== null).length;
      if (drivers > 1) doubleOwners += 1;
    }
  }, 5);
  const shares = () => replicas.map((r) => r.leases.held().length);
  try {
    replicas.push(await startReplica("one"));
    expect(shares()).toEqual([6]);
    await sleep(500);
    for (const member of ["two", "three"]) {
      replicas.push(await startReplica(member));
      await until(() => shares().every((n) => n > 0) && shares().reduce((a, b) => a + b, 0) === 6);
      await sleep(400);
    }
    for (const leaving of [replicas[2]!, replicas[1]!]) {
      await leaving.projector.stop(); // hands its projections off at a checkpoint
      replicas.splice(replicas.indexOf(leaving), 1);
      stopped.push(leaving);
      await until(() => shares().reduce((a, b) => a + b, 0) === 6);
      await sleep(400);
    }
    expect(shares()).toEqual([6]);
  } finally {
    writing = false;
    await writer;
    clearInterval(sampler);
  }
  expect(appended).toBeGreaterThan(100);
  await waitForLogVisible(db);
  wakeups.wake();
  await wakeups.close();
  await wakeupConnection.quit();
  for (const projection of projections) {
    const expected = await fromScratch(redis, db.store, keys.prefix, projection);
    let actual = await snapshotGeneration(redis, keys, projection.name, FIRST_GENERATION);
    const deadline = Date.now() + 20_000;
    while (!isDeepStrictEqual(actual, expected) && Date.now() < deadline) {
      await sleep(50);
      actual = await snapshotGeneration(redis, keys, projection.name, FIRST_GENERATION);
    }
    expect(actual).toEqual(expected);
  }
  const all = [...replicas, ...stopped];
  expect(all.map((r) => r.projector.thrownAway)).toEqual([0, 0, 0]);
  expect(doubleOwners).toBe(0);
  // Hand-offs happened: a projection that moved carries a token above 1.
  const { rows } = await db.pool.query<{ token: string }>("SELECT max(token)::text AS token FROM processor_leases");
  expect(Number(rows[0]!.token)).toBeGreaterThan(1);
  for (const replica of replicas) await replica.projector.stop();
});
