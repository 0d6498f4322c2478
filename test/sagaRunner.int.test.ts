import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { CommandContext } from "../src/platform/aggregate/command";
import type { RawCommandBus } from "../src/platform/bus/rawCommandBus";
import type { CommandReply } from "../src/platform/bus/wire";
import { DomainError, ErrorCode } from "../src/platform/core/errors";
import { silentLogger } from "../src/platform/observability/logger";
import { bullPrefix } from "../src/platform/core/redis";
import { liveWorkers } from "../src/platform/bus/workerRecovery";
import { SAGA_QUEUE, SagaRunner, type SagaRunnerOptions } from "../src/platform/saga/sagaRunner";
import { planAfter } from "../src/platform/saga/sagaPlan";
import { initialSagaState } from "../src/platform/saga/sagaState";
import { type SagaDefinition, sagaStreamId } from "../src/platform/saga/types";
import { type CheckoutData, checkoutSaga } from "../src/services/ordering/checkoutSaga";
import { sagaHistory as h } from "./support/sagaSpec";
import { eventually } from "./support/system";
import { createTestDatabase, deleteKeys, TEST_REDIS_URL, testPrefix, type TestDatabase } from "./support/testEnv";

/**
 * The saga runner records each step in one append (the reply with the next step's start), and keeps
 * its state in memory between steps. These are the guarantees that must survive that: a crash after
 * the combined append resends the same step with the same command id; another runner moving the
 * instance meanwhile is caught by the expected version; nothing is recorded twice.
 */
type Sent = { service: string; type: string; commandId: string };
const data: CheckoutData = { orderId: "o-1", customerId: "c-1", totalMinor: 3400, lines: [{ sku: "TEA", quantity: 2 }] };
const definition: SagaDefinition<unknown> = checkoutSaga;

/**
 * A bus that answers every command as applied, records what it was sent, and can run a hook before
 * answering (given how long the sender waits).
 */
function scriptedBus(hook: (sent: Sent, timeoutMs: number) => Promise<void> = async () => undefined): RawCommandBus & { sent: Sent[] } {
  const sent: Sent[] = [];
  const reply = async (service: string, command: unknown, context: CommandContext, timeoutMs: number): Promise<CommandReply> => {
    const type = typeof command === "object" && command !== null && "type" in command && typeof command.type === "string" ? command.type : "?";
    const record = { service, type, commandId: context.commandId };
    sent.push(record);
    await hook(record, timeoutMs);
    const eventTypes = type === "AuthorizePayment" ? ["PaymentAuthorized"] : [`${type}Done`];
    return { ok: true, outcome: { commandId: context.commandId, streamId: "s", streamVersion: 1, position: null, events: [], eventTypes, duplicate: false } };
  };
  return {
    sent,
    sendRaw: (service, command, context, timeoutMs) => reply(service, command, context, timeoutMs),
    send: async () => {
      throw new Error("the saga runner sends raw commands only");
    },
  };
}

let db: TestDatabase;
let redis: Redis;
const prefix = testPrefix();
const runners: SagaRunner[] = [];
const log = silentLogger();

function runner(bus: RawCommandBus, options: Partial<SagaRunnerOptions> = {}): SagaRunner {
  const created = new SagaRunner({ db: db.pool, store: db.store, bus, connection: redis, prefix, definitions: [definition], log }, options);
  runners.push(created);
  return created;
}

/** The saga stream as the starter writes it: SagaStarted and the first step's start, in one append. */
async function startSaga(orderId: string): Promise<string> {
  const stream = sagaStreamId("checkout", orderId);
  const started = h.started("checkout", orderId, { ...data, orderId });
  const { events } = planAfter(definition, initialSagaState, [started], Date.now());
  await db.store.append(stream, "no_stream", events.map((e) => ({ ...e, metadata: { correlationId: "corr-1", causationId: stream, actor: "test" } })));
  return stream;
}

async function history(stream: string): Promise<{ types: string[]; appends: number }> {
  const { rows } = await db.pool.query<{ type: string; step: string | null; tx: string }>(
    "SELECT type, data->>'step' AS step, transaction_id::text AS tx FROM events WHERE stream_id = $1 ORDER BY stream_version",
    [stream],
  );
  return { types: rows.map((r) => (r.step ? `${r.type}:${r.step}` : r.type)), appends: new Set(rows.map((r) => r.tx)).size };
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  await deleteKeys(redis, prefix);
  await redis.quit();
  await db.drop();
});

const completed = [
  "SagaStarted", "SagaStepStarted:reserve:TEA",
  "SagaStepSucceeded:reserve:TEA", "SagaStepStarted:authorize",
  "SagaStepSucceeded:authorize", "SagaStepStarted:confirm",
  "SagaStepSucceeded:confirm", "SagaFinished",
];

it("records each step in one append: the reply with the next step's start, and the last reply with the end", async () => {
  const stream = await startSaga("o-one-append");
  const bus = scriptedBus();
  await runner(bus).advance(stream, definition);
  expect(bus.sent.map((s) => s.type)).toEqual(["ReserveStock", "AuthorizePayment", "ConfirmOrder"]);
  expect(await history(stream)).toEqual({ types: completed, appends: 4 });
});

it("a crash between the combined append and the next send: another runner resends that step with the same command id, and nothing before it", async () => {
  const stream = await startSaga("o-crash");
  const crashing = scriptedBus(async (sent) => {
    if (sent.type === "AuthorizePayment") throw new Error("process killed before the reply");
  });
  await expect(runner(crashing).advance(stream, definition)).rejects.toThrow("process killed");
  // The reservation's reply and the authorization's start were recorded together before the crash.
  expect((await history(stream)).types).toEqual(completed.slice(0, 4));

  const resumed = scriptedBus();
  await runner(resumed).advance(stream, definition);
  expect(resumed.sent).toEqual([
    { service: "payments", type: "AuthorizePayment", commandId: `${stream}/authorize` },
    { service: "ordering", type: "ConfirmOrder", commandId: `${stream}/confirm` },
  ]);
  expect(crashing.sent.at(-1)).toEqual(resumed.sent[0]);
  expect((await history(stream)).types).toEqual(completed);
});

it("another runner moving the instance while this one waits for a reply: the stale append is refused, and this runner follows what was recorded", async () => {
  const stream = await startSaga("o-race");
  let raced = false;
  const bus = scriptedBus(async (sent) => {
    if (sent.type !== "ReserveStock" || raced) return;
    raced = true;
    // Another runner got the same reply first and recorded it with the next step's start.
    const metadata = { correlationId: "corr-1", causationId: stream, actor: "other-runner" };
    await db.store.append(stream, 2, [h.succeeded("reserve:TEA"), h.stepStarted("authorize", "payments")].map((e) => ({ ...e, metadata })));
  });
  await runner(bus).advance(stream, definition);
  expect(bus.sent.map((s) => s.type)).toEqual(["ReserveStock", "AuthorizePayment", "ConfirmOrder"]);
  expect((await history(stream)).types).toEqual(completed);
});

it("the advance keeps the deadline: a step whose service never answers is given up at the deadline and compensated, with no timer or delayed job", async () => {
  let waiting: () => void = () => undefined;
  const authorizing = new Promise<void>((resolve) => (waiting = resolve));
  const bus = scriptedBus(async (sent, timeoutMs) => {
    if (sent.type !== "AuthorizePayment") return;
    waiting();
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    throw new DomainError(ErrorCode.COMMAND_TIMEOUT, `no answer within ${timeoutMs} ms`);
  });
  // No sweep within the test, and a step timeout far past the deadline: only the advance can end the wait in time.
  const started = runner(bus, { deadlineMs: 1500, stepTimeoutMs: 60_000, sweepEveryMs: 60_000 });
  await started.start();
  const queue = sagaQueue();
  try {
    const stream = await placeOrder("o-deadline");
    await authorizing;
    expect(await queue.getDelayed()).toEqual([]);
    await eventually(async () => finished(stream), "the saga's end", 15_000);
    expect((await history(stream)).types).toEqual([
      "SagaStarted", "SagaStepStarted:reserve:TEA",
      "SagaStepSucceeded:reserve:TEA", "SagaStepStarted:authorize",
      "SagaDeadlinePassed", "SagaStepStarted:release:TEA",
      "SagaStepSucceeded:release:TEA", "SagaStepStarted:cancel",
      "SagaStepSucceeded:cancel", "SagaStepStarted:void",
      "SagaStepSucceeded:void", "SagaFinished",
    ]);
    expect(bus.sent.filter((s) => s.type === "AuthorizePayment")).toHaveLength(1);
    expect(await queue.getDelayed()).toEqual([]);
  } finally {
    await queue.close();
    await started.stop(); // the next tests' starters must be the only ones
  }
});

/** An OrderPlaced in the log, as the ordering service appends it; the checkout instance it starts. */
async function placeOrder(orderId: string): Promise<string> {
  const placed = { orderId, customerId: "c-1", totalMinor: 3400, currency: "EUR", lines: [{ sku: "TEA", quantity: 2, unitPriceMinor: 1700, lineTotalMinor: 3400 }] };
  await db.store.append(`ordering.order-${orderId}`, "no_stream", [{ type: "OrderPlaced", data: placed, metadata: { correlationId: `corr-${orderId}`, causationId: "test", actor: "test" } }]);
  return sagaStreamId("checkout", orderId);
}

function sagaQueue(): Queue {
  return new Queue(SAGA_QUEUE, { connection: redis, prefix: bullPrefix(prefix, SAGA_QUEUE) });
}

const finished = async (stream: string) => (await history(stream)).types.at(-1) === "SagaFinished";

/**
 * Starts an instance under a runner with `options` and stops that runner while the authorization's reply
 * is on its way: a stopping runner records nothing more, so the reply goes unrecorded.
 */
async function stopHalfway(orderId: string, options: Partial<SagaRunnerOptions>): Promise<string> {
  let release: () => void = () => undefined;
  const authorizing = new Promise<void>((resolve) => (release = resolve));
  const first = runner(scriptedBus(async (sent) => (sent.type === "AuthorizePayment" ? authorizing : undefined)), options);
  await first.start();
  const stream = await placeOrder(orderId);
  await eventually(async () => (await history(stream)).types.includes("SagaStepStarted:authorize"), "the authorization under way");
  const stopping = first.stop();
  release();
  await stopping;
  expect((await history(stream)).types).toEqual(completed.slice(0, 4));
  return stream;
}

/** A successor finishes the instance: the step whose reply went unrecorded is sent again under its command id. */
async function successorFinishes(stream: string, options: Partial<SagaRunnerOptions>): Promise<void> {
  const bus = scriptedBus();
  const successor = runner(bus, options);
  try {
    await successor.start();
    await eventually(() => finished(stream), "the saga's end", 10_000);
    expect(bus.sent.map((s) => s.commandId)).toEqual([`${stream}/authorize`, `${stream}/confirm`]);
  } finally {
    await successor.stop();
  }
}

it("a runner stopped halfway through an advance job queues the instance again, and its successor finishes it without waiting for the sweep", async () => {
  // Every instance starts through the queue, and no sweep comes within the test.
  const throughQueue = { localAdvances: 0, sweepEveryMs: 60_000, deadlineMs: 120_000 };
  const stream = await stopHalfway("o-stopped-job", throughQueue);
  await successorFinishes(stream, throughQueue);
});

describe("the first advance runs in the starter's process", () => {
  it("given the queue's worker takes nothing, when an order is placed, then its saga still runs to the end, without an advance job", async () => {
    const queue = sagaQueue();
    await queue.pause(); // no worker takes a job now: only an advance in the starter's process can move the instance
    const started = runner(scriptedBus(), { sweepEveryMs: 60_000 });
    try {
      await started.start();
      const stream = await placeOrder("o-local");
      await eventually(() => finished(stream), "the saga's end");
      expect((await history(stream)).types).toEqual(completed);
      expect((await queue.getWaiting()).filter((job) => job.data.stream === stream)).toEqual([]);
    } finally {
      await started.stop();
      await queue.resume();
      await queue.close();
    }
  });

  it("given its bound of advances at once is reached, when an order is placed, then its instance starts through the queue", async () => {
    const queue = sagaQueue();
    await queue.pause();
    const bus = scriptedBus();
    const started = runner(bus, { localAdvances: 0, sweepEveryMs: 60_000 });
    try {
      await started.start();
      const stream = await placeOrder("o-bounded");
      await eventually(async () => (await queue.getWaiting()).some((job) => job.data.stream === stream), "an advance job for the instance");
      expect(bus.sent).toEqual([]);
      await queue.resume();
      await eventually(() => finished(stream), "the saga's end once the queue runs");
    } finally {
      await started.stop();
      await queue.resume();
      await queue.close();
    }
  });

  it("given its first send fails, when the advance gives up, then the queue's advance takes over and resends the same command", async () => {
    let failed = false;
    const bus = scriptedBus(async (sent) => {
      if (sent.type === "ReserveStock" && !failed) {
        failed = true;
        throw new Error("the runner's own fault, not the service's");
      }
    });
    // No sweep and a far deadline: only the hand-over to the queue can finish this instance in time.
    const started = runner(bus, { sweepEveryMs: 60_000, deadlineMs: 120_000 });
    try {
      await started.start();
      const stream = await placeOrder("o-handover");
      await eventually(() => finished(stream), "the saga's end through the queue");
      const reservations = bus.sent.filter((s) => s.type === "ReserveStock");
      expect(reservations).toEqual([reservations[0], reservations[0]]);
      expect(reservations[0]?.commandId).toBe(`${stream}/reserve:TEA`);
    } finally {
      await started.stop();
    }
  });
});

/**
 * A first advance runs without a job, so a crash cannot hand it back as WorkerRecovery hands back a dead
 * worker's jobs. It is claimed in Redis under the runner's worker name instead, and a live runner, or the
 * dead one's successor, hands an instance whose runner is gone to the queue within RECLAIM_WITHIN_MS.
 */
describe("the claims of first advances", () => {
  const claimsKey = `${bullPrefix(prefix, SAGA_QUEUE)}:local-advances`;
  // No sweep and far deadlines: only a hand-over can move an instance in time.
  const handOverOnly = { sweepEveryMs: 60_000, deadlineMs: 120_000, reclaimWithinMs: 1000 };

  it("given an advance running here, then its instance is claimed under this runner's name until the advance ends", async () => {
    let release: () => void = () => undefined;
    const authorizing = new Promise<void>((resolve) => (release = resolve));
    const started = runner(scriptedBus(async (sent) => (sent.type === "AuthorizePayment" ? authorizing : undefined)), handOverOnly);
    try {
      await started.start();
      const stream = await placeOrder("o-claimed");
      await eventually(async () => (await redis.hget(claimsKey, stream)) !== null, "the claim");
      expect(await liveWorkers(redis)).toContain(await redis.hget(claimsKey, stream));
      release();
      await eventually(() => finished(stream), "the saga's end");
      await eventually(async () => (await redis.hget(claimsKey, stream)) === null, "the claim released");
    } finally {
      release();
      await started.stop();
    }
  });

  it("given an instance claimed by a runner that is gone, when a runner starts, then it hands the instance to the queue, which finishes it", async () => {
    const stream = await startSaga("o-orphaned");
    await redis.hset(claimsKey, stream, "a-runner-that-was-killed");
    const bus = scriptedBus();
    const started = runner(bus, handOverOnly);
    try {
      await started.start();
      await eventually(() => finished(stream), "the saga's end", 10_000);
      expect(bus.sent.map((s) => s.commandId)).toEqual([`${stream}/reserve:TEA`, `${stream}/authorize`, `${stream}/confirm`]);
      expect(await redis.hget(claimsKey, stream)).toBeNull();
    } finally {
      await started.stop();
    }
  });

  it("given an instance claimed by a runner that is still connected, then it is left alone, however long it takes", async () => {
    const stream = await startSaga("o-held");
    const presence = redis.duplicate({ connectionName: "eventline-worker:a-live-runner" });
    await presence.client("SETNAME", "eventline-worker:a-live-runner");
    await redis.hset(claimsKey, stream, "a-live-runner");
    const bus = scriptedBus();
    const started = runner(bus, handOverOnly);
    try {
      await started.start();
      await new Promise((r) => setTimeout(r, 3000)); // several hand-over passes
      expect(bus.sent).toEqual([]);
      expect(await redis.hget(claimsKey, stream)).toBe("a-live-runner");
    } finally {
      await started.stop();
      await presence.quit();
      await redis.hdel(claimsKey, stream);
    }
  });

  it("given a runner stopped halfway through an advance, then it keeps the claim, and its successor hands the instance on", async () => {
    const stream = await stopHalfway("o-restarted", handOverOnly);
    expect(await redis.hget(claimsKey, stream)).not.toBeNull();
    await successorFinishes(stream, handOverOnly);
  });
});
