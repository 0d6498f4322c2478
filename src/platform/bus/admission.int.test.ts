import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase } from "../../../test/support/testEnv";
import { eventually } from "../../../test/support/system";
import { CommandHandler, type CommandContext } from "../aggregate/commandHandler";
import { clientIdempotencyKey, commandFingerprint } from "../aggregate/idempotency";
import { DomainError, ErrorCode } from "../core/errors";
import { capturingLogger } from "../observability/logger";
import { Admission } from "./admission";
import { bullPrefix } from "../core/redis";
import { CommandWorker } from "./commandWorker";
import { commandQueueName, QueueCommandBus } from "./queueCommandBus";
import { type Add, counterDecider } from "../../../test/support/counterDecider";

/**
 * Admission control: with its service stopped and its queue at the bound, a
 * new command is refused with OVERLOADED (and retryAfterMs); resends of queued
 * commands are not; everything accepted runs once the service is back.
 */
const counter = counterDecider;
const SERVICE = "counters";
const MAX = 2;

let db: TestDatabase;
let redis: Redis;
let workerRedis: Redis;
let prefix: string;
let queue: Queue;
const buses: QueueCommandBus[] = [];
const logs: string[] = [];

const add = (name: string): Add => ({ type: "Add", counter: name, amount: 1 });
const context = (id: string, command: Add): CommandContext => ({
  commandId: clientIdempotencyKey("alice", id),
  clientCommandId: id,
  actor: "alice",
  fingerprint: commandFingerprint(command),
});
const send = (api: QueueCommandBus, name: string, id: string) => api.send(SERVICE, add(name), context(id, add(name)));
const errorOf = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e);
const bus = () => {
  // Counts are never re-read during the test: the bound must hold from the first count plus what this bus admitted.
  const admission = new Admission({ maxQueued: MAX, countEveryMs: 60_000, retryAfterMs: 700 });
  const created = new QueueCommandBus(redis, TEST_REDIS_URL, prefix, { timeoutMs: 30_000, attempts: 3, admission });
  buses.push(created);
  return created;
};
const queued = async () => (await queue.getJobCounts("wait")).wait ?? 0;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  workerRedis = testRedis();
  prefix = testPrefix();
  queue = new Queue(commandQueueName(SERVICE), { connection: redis, prefix: bullPrefix(prefix, commandQueueName(SERVICE)) });
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await queue.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  workerRedis.disconnect();
  await db.drop();
});

it("refuses new commands past the bound with OVERLOADED, never a resend, and runs all it accepted once the service is back", async () => {
  const api = bus();
  const accepted = [send(api, "a", "c-1")];
  await eventually(async () => (await queued()) === 1, "the first command queued");
  accepted.push(send(api, "b", "c-2"));
  await eventually(async () => (await queued()) === MAX, "the queue at its bound");

  const refused = await errorOf(send(api, "c", "c-3"));
  expect(refused).toBeInstanceOf(DomainError);
  expect(refused).toMatchObject({ code: ErrorCode.OVERLOADED, details: { service: SERVICE, queued: MAX, max: MAX, retryAfterMs: 700 } });
  // Another api process, counting the queue afresh, refuses too.
  expect(await errorOf(send(bus(), "c", "c-3"))).toMatchObject({ code: ErrorCode.OVERLOADED });

  // A resend of a queued command joins its job.
  accepted.push(send(api, "a", "c-1"));

  const handler = new CommandHandler(db.store, counter);
  const worker = new CommandWorker(SERVICE, (command, ctx) => handler.handle(`counter-${(command as Add).counter}`, command as Add, ctx), workerRedis, prefix, capturingLogger(logs));
  try {
    await worker.waitUntilReady();
    const [first, second, resent] = await Promise.all(accepted);
    expect([first?.duplicate, second?.duplicate]).toEqual([false, false]);
    expect(resent).toMatchObject({ streamId: first?.streamId, streamVersion: first?.streamVersion });
    // The refused command was never queued: resent now that the queue has room, it runs.
    await eventually(async () => (await queued()) === 0, "the queue drained");
    expect(await send(bus(), "c", "c-3")).toMatchObject({ duplicate: false });
  } finally {
    await worker.close();
  }
  const { rows } = await db.pool.query<{ stream_id: string }>("SELECT stream_id FROM events ORDER BY global_position");
  expect(rows.map((r) => r.stream_id).sort()).toEqual(["counter-a", "counter-b", "counter-c"]);
});
