import { Queue } from "bullmq";
import { bullPrefix } from "../src/platform/core/redis";
import { commandJobId, commandQueueName } from "../src/platform/bus/queueCommandBus";
import { DefineProductDocument, OpenAccountDocument, OrderDocument, PlaceOrderDocument, ProductDocument, SagaDocument } from "./graphql/generated";
import { request } from "./support/graphqlClient";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * A service SIGKILLed while it runs a saga step. Before, the step's BullMQ job
 * stayed active under the dead worker's 30 s lock, plus two stall checks 30 s
 * apart, and the saga's deadline fired first. Now the restarted service takes
 * the job back as soon as it is ready (RECLAIM_WITHIN_MS), and the checkout
 * completes. The deadline is shorter than BullMQ's lock, so only the reclaim
 * can save the checkout, and long enough to restart a process on a loaded machine.
 */
const DEADLINE_MS = 25_000;
let system: RunningSystem;
let commands: Queue;

beforeAll(async () => {
  system = await startSystem(["api", "projector", "saga", "inventory", "ordering", "payments"], { SAGA_DEADLINE_MS: String(DEADLINE_MS) });
  commands = new Queue(commandQueueName("payments"), { connection: system.redis, prefix: bullPrefix(system.prefix, commandQueueName("payments")) });
  await request(system.url, OpenAccountDocument, { customerId: "c-1", currency: "EUR", initialBalanceMinor: 10_000 });
  const { defineProduct } = await request(system.url, DefineProductDocument, {
    input: { sku: "TEA", name: "tea", priceMinor: 100, currency: "EUR", initialStock: 5 },
  });
  await request(system.url, ProductDocument, { id: "TEA", waitFor: defineProduct.position });
}, 120_000);

afterAll(async () => {
  await commands.close();
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

it("a service killed 10 ms into a saga step runs the step once after its restart, and the checkout completes before its deadline", async () => {
  const orderId = "o-killed";
  const commandId = `saga.checkout-${orderId}/authorize`;
  const jobId = commandJobId("payments", commandId);
  // Payments is frozen until the step's command waits in its queue; then the service's append of
  // AuthorizePayment is held by an uncommitted row with the step's command id, so the kill lands
  // while Payments is running the step. (Opened only then: an open transaction holds log readers back.)
  const payments = system.role("payments").child;
  payments.kill("SIGSTOP");
  await request(system.url, PlaceOrderDocument, { input: { orderId, customerId: "c-1", lines: [{ sku: "TEA", quantity: 2 }] } });
  await eventually(() => commands.getJob(jobId), "the saga to send the authorization", 30_000);
  const blocker = await system.db.pool.connect();
  try {
    await blocker.query("BEGIN");
    await blocker.query("INSERT INTO command_results (command_id, stream_id, result) VALUES ($1, 'test-blocker', '{}')", [commandId]);
    const blockerPid = (await blocker.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    payments.kill("SIGCONT");
    const job = await eventually(async () => {
      const found = await commands.getJob(jobId);
      return found && (await found.getState()) === "active" ? found : null;
    }, "Payments to take the authorization");
    await eventually(
      async () => (await system.db.pool.query("SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [blockerPid])).rowCount === 1,
      "the authorization's append to be running",
    );
    await new Promise((r) => setTimeout(r, 10));
    await system.stop("payments", "SIGKILL");
    expect(await job.getState()).toBe("active"); // left behind, locked by a worker that is gone
    await blocker.query("ROLLBACK");
  } finally {
    blocker.release();
  }

  const restarted = await system.start("payments");
  const saga = await eventually(async () => {
    const { saga } = await request(system.url, SagaDocument, { id: `saga.checkout-${orderId}` });
    return saga && saga.status !== "RUNNING" ? saga : null;
  }, "the saga to finish", DEADLINE_MS + 30_000);
  // Completed, not compensated: the step ran before the deadline.
  expect(saga.status).toBe("COMPLETED");
  const { order } = await request(system.url, OrderDocument, { id: orderId });
  expect(order?.status).toBe("CONFIRMED");
  // The restarted service took the job back (rather than waiting out the dead worker's lock).
  expect(restarted.output()).toMatch(/took back 1 job\(s\)/);
  // Once: the killed process's append and the rerun by commandId make one authorization.
  const { rows } = await system.db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM events WHERE type = 'PaymentAuthorized' AND data->>'orderId' = $1",
    [orderId],
  );
  expect(rows[0]!.n).toBe(1);
  expect((await commands.getJob(jobId))?.returnvalue).toMatchObject({ ok: true });
}, DEADLINE_MS + 120_000);
