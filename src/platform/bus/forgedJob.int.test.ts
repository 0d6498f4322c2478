import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, type TestDatabase } from "../../../test/support/testEnv";
import { inventoryService } from "../../services/inventory/service";
import { capturingLogger } from "../observability/logger";
import { CommandWorker } from "./commandWorker";
import { bullPrefix } from "./connections";
import { COMMAND_JOB, commandQueueName } from "./queueCommandBus";
import type { CommandReply } from "./wire";

/**
 * The service's worker boundary: a malformed or forged job put straight on a
 * command queue is answered with a VALIDATION refusal, once, and never
 * retried (before, Inventory cast it and failed with a plain Error, which
 * counts as transient, five times).
 */
let db: TestDatabase;
let redis: Redis;
let workerRedis: Redis;
let prefix: string;
let queue: Queue;
let worker: CommandWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  workerRedis = testRedis();
  prefix = testPrefix();
  queue = new Queue(commandQueueName("inventory"), { connection: redis, prefix: bullPrefix(prefix) });
  const execute = inventoryService.createExecutor({ store: db.store, handlerOptions: {} });
  worker = new CommandWorker("inventory", execute, workerRedis, prefix, capturingLogger([]));
  await worker.waitUntilReady();
});

afterAll(async () => {
  await worker.close();
  await queue.close();
  await deleteKeys(redis, prefix);
  workerRedis.disconnect();
  redis.disconnect();
  await db.drop();
});

const context = { commandId: "forged-1", actor: "mallory" };

async function settle(name: string, data: unknown, jobId: string): Promise<{ state: string; attempts: number; reply: CommandReply }> {
  await queue.add(name, data, { jobId, attempts: 5, backoff: { type: "fixed", delay: 10 } });
  for (;;) {
    const state = await queue.getJobState(jobId);
    if (state === "completed" || state === "failed") {
      const job = (await queue.getJob(jobId))!; // read after it settled, so its counters are final
      return { state, attempts: job.attemptsMade, reply: job.returnvalue as CommandReply };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

it.each([
  ["an unknown command type", COMMAND_JOB, { command: { type: "Explode", sku: "TEA-1" }, context }, "type"],
  ["a command with a NUL in a field", COMMAND_JOB, { command: { type: "Restock", sku: "TEA\u0000", quantity: 1 }, context }, "sku"],
  ["a command with a field no command has", COMMAND_JOB, { command: { type: "Restock", sku: "TEA-1", quantity: 1, extra: true }, context }, "command"],
  ["a job without a context", COMMAND_JOB, { command: { type: "Restock", sku: "TEA-1", quantity: 1 } }, "job.context"],
  ["a job of another name", "surprise", { command: {}, context }, "job"],
])("refuses %s with VALIDATION, answered once and not retried", async (_, name, data, field) => {
  const { state, attempts, reply } = await settle(name, data, `forged-${field}-${name}`);
  expect({ state, attempts }).toEqual({ state: "completed", attempts: 1 });
  expect(reply).toMatchObject({ ok: false, error: { code: "VALIDATION", details: { field } } });
  expect((await db.pool.query("SELECT count(*)::int AS n FROM events")).rows[0].n).toBe(0);
});
