import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, type TestDatabase } from "../../../test/support/testEnv";
import { INVENTORY } from "../../services/inventory/contract";
import { inventoryService } from "../../services/inventory/service";
import { ORDERING } from "../../services/ordering/contract";
import { orderingService } from "../../services/ordering/service";
import { PAYMENTS } from "../../services/payments/contract";
import { paymentsService } from "../../services/payments/service";
import type { ServiceDefinition } from "../runtime/service";
import { capturingLogger } from "../observability/logger";
import { CommandWorker } from "./commandWorker";
import { bullPrefix } from "../core/redis";
import { COMMAND_JOB, commandQueueName } from "./queueCommandBus";
import type { CommandReply } from "./wire";

/**
 * Each service's worker boundary: a malformed, unknown or stale job put
 * straight on its command queue is answered with a VALIDATION refusal, once,
 * and never retried (before, Inventory cast it and failed with a plain Error,
 * which counts as transient, five times), and nothing is appended.
 */
let db: TestDatabase;
let redis: Redis;
let workerRedis: Redis;
let prefix: string;
const queues = new Map<string, Queue>();
const workers: CommandWorker[] = [];
const services: readonly ServiceDefinition[] = [inventoryService, orderingService, paymentsService];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  workerRedis = testRedis();
  prefix = testPrefix();
  for (const service of services) {
    queues.set(service.name, new Queue(commandQueueName(service.name), { connection: redis, prefix: bullPrefix(prefix, commandQueueName(service.name)) }));
    const execute = service.createExecutor({ store: db.store, handlerOptions: {} });
    const worker = new CommandWorker(service.name, execute, workerRedis, prefix, capturingLogger([]));
    workers.push(worker);
    await worker.waitUntilReady();
  }
});

afterAll(async () => {
  for (const worker of workers) await worker.close();
  for (const queue of queues.values()) await queue.close();
  await deleteKeys(redis, prefix);
  workerRedis.disconnect();
  redis.disconnect();
  await db.drop();
});

const context = { commandId: "forged-1", actor: "mallory" };

async function settle(service: string, name: string, data: unknown, jobId: string): Promise<{ state: string; attempts: number; reply: CommandReply }> {
  const queue = queues.get(service)!;
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

const job = (command: unknown) => ({ command, context });

it.each([
  [INVENTORY, "an unknown command type", COMMAND_JOB, job({ type: "Explode", sku: "TEA-1" }), "type"],
  [INVENTORY, "a command with a NUL in a field", COMMAND_JOB, job({ type: "Restock", sku: "TEA\u0000", quantity: 1 }), "sku"],
  [INVENTORY, "a command with a field no command has", COMMAND_JOB, job({ type: "Restock", sku: "TEA-1", quantity: 1, extra: true }), "command"],
  [INVENTORY, "a stale shape (qty, not quantity)", COMMAND_JOB, job({ type: "ReserveStock", sku: "TEA-1", orderId: "o-1", qty: 1 }), "quantity"],
  [INVENTORY, "a job without a context", COMMAND_JOB, { command: { type: "Restock", sku: "TEA-1", quantity: 1 } }, "job.context"],
  [INVENTORY, "a job of another name", "surprise", job({}), "job"],
  [ORDERING, "an unknown command type", COMMAND_JOB, job({ type: "ShipEverything", orderId: "o-1" }), "type"],
  [ORDERING, "a malformed command (a line of quantity -1)", COMMAND_JOB, job({ type: "PlaceOrder", orderId: "o-1", customerId: "c-1", currency: "EUR", lines: [{ sku: "TEA", quantity: -1, unitPriceMinor: 100 }] }), "lines[0].quantity"],
  [ORDERING, "a stale shape (lines without prices)", COMMAND_JOB, job({ type: "PlaceOrder", orderId: "o-1", customerId: "c-1", currency: "EUR", lines: [{ sku: "TEA", quantity: 1 }] }), "lines[0].unitPriceMinor"],
  [ORDERING, "a command that is not an object", COMMAND_JOB, job("CancelOrder"), "command"],
  [PAYMENTS, "an unknown command type", COMMAND_JOB, job({ type: "PrintMoney", customerId: "c-1" }), "type"],
  [PAYMENTS, "a malformed command (a fractional amount)", COMMAND_JOB, job({ type: "AddFunds", customerId: "c-1", amountMinor: 1.5 }), "amountMinor"],
  [PAYMENTS, "a stale shape (amount, not amountMinor)", COMMAND_JOB, job({ type: "AuthorizePayment", customerId: "c-1", orderId: "o-1", amount: 100 }), "amountMinor"],
])("%s refuses %s with VALIDATION, answered once and not retried", async (service, _, name, data, field) => {
  const { state, attempts, reply } = await settle(service, name, data, `forged-${service}-${field}-${name}-${_.length}`);
  expect({ state, attempts }).toEqual({ state: "completed", attempts: 1 });
  expect(reply).toMatchObject({ ok: false, error: { code: "VALIDATION", details: { field } } });
  expect((await db.pool.query("SELECT count(*)::int AS n FROM events")).rows[0].n).toBe(0);
});
