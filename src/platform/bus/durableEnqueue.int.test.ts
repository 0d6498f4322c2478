import type { Redis } from "ioredis";
import { createTestDatabase, testPrefix, type TestDatabase } from "../../../test/support/testEnv";
import { type Add, counterDecider } from "../../../test/support/counterDecider";
import { RedisReplicaPair } from "../../../test/support/redisReplicaPair";
import { CommandHandler, type CommandContext, type CommandOutcome } from "../aggregate/commandHandler";
import { DomainError } from "../core/errors";
import { bullPrefix, createRedis } from "../core/redis";
import { capturingLogger } from "../observability/logger";
import type { CommandExecutor } from "./commandBus";
import { CommandWorker } from "./commandWorker";
import { CommandNotReplicatedError, commandJobId, commandQueueName, QueueCommandBus, type QueueCommandBusOptions } from "./queueCommandBus";

/**
 * Durability of an accepted command on a real replicated Redis (a primary and
 * a replica, SIGKILL, REPLICAOF NO ONE). With REDIS_WAIT_REPLICAS the accepted
 * command is on the replica before the caller hears "accepted", so it survives
 * the failover; short of it the caller gets a typed error. Without WAIT a
 * command can be lost by a failover, and comes back when its caller resends
 * it with the same commandId: it runs exactly once, because the commandId is
 * recorded in PostgreSQL with the command's events.
 */
const SERVICE = "counters";
let db: TestDatabase;
let pair: RedisReplicaPair;
let prefix: string;
let execute: CommandExecutor;
/** What each test opened on the Redis servers, closed before a server is killed or at the end. */
const open: Array<{ close(): Promise<unknown> }> = [];

const add = (counter: string): Add => ({ type: "Add", counter, amount: 1 });
const context = (commandId: string): CommandContext => ({ commandId, actor: "test" });
const eventsOf = async (counter: string) =>
  Number((await db.pool.query("SELECT count(*) FROM events WHERE stream_id = $1", [`counter-${counter}`])).rows[0].count);
const codeOf = (p: Promise<unknown>) => p.then(() => "none", (e: unknown) => (e instanceof DomainError ? e.code : String(e)));

function connect(url: string): Redis {
  const connection = createRedis(url);
  connection.on("error", () => undefined);
  open.push({ close: () => connection.quit().catch(() => connection.disconnect()) });
  return connection;
}

function busOn(url: string, options: Partial<QueueCommandBusOptions> = {}): QueueCommandBus {
  const bus = new QueueCommandBus(connect(url), url, prefix, { timeoutMs: 400, attempts: 3, ...options });
  open.unshift(bus); // closed before its connection
  return bus;
}

async function workerOn(url: string): Promise<CommandWorker> {
  const worker = new CommandWorker(SERVICE, execute, connect(url), prefix, capturingLogger([]));
  open.unshift(worker);
  await worker.waitUntilReady();
  return worker;
}

async function closeAll(): Promise<void> {
  for (const o of open.splice(0)) await o.close();
}

/** Whether the command's job is held by the Redis at `url` (a fresh connection, so nothing else waits on it). */
async function queuedOn(url: string, commandId: string): Promise<boolean> {
  const r = createRedis(url);
  try {
    return (await r.exists(`${bullPrefix(prefix, commandQueueName(SERVICE))}:${commandQueueName(SERVICE)}:${commandJobId(SERVICE, commandId)}`)) === 1;
  } finally {
    r.disconnect();
  }
}

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await check()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix();
  const handler = new CommandHandler(db.store, counterDecider);
  execute = (command, ctx) => handler.handle(`counter-${(command as Add).counter}`, command as Add, ctx);
});

beforeEach(async () => {
  pair = await RedisReplicaPair.start();
});

afterEach(async () => {
  await closeAll();
  await pair.stop();
});

afterAll(async () => {
  await db.drop();
});

describe("enqueue on a replicated Redis", () => {
  it("with REDIS_WAIT_REPLICAS, a command accepted before the primary is SIGKILLed runs after the failover", async () => {
    const bus = busOn(pair.primaryUrl, { waitReplicas: 1, waitTimeoutMs: 2000 });
    // No worker yet: the command is accepted (queued and copied), the caller times out waiting for its reply.
    expect(await codeOf(bus.send(SERVICE, add("a"), context("wait-1")))).toBe("COMMAND_TIMEOUT");
    await closeAll();
    await pair.killPrimary();
    await pair.promoteReplica();
    expect(await queuedOn(pair.replicaUrl, "wait-1")).toBe(true);

    await workerOn(pair.replicaUrl);
    await until(async () => (await eventsOf("a")) === 1, "the accepted command ran on the promoted replica");
    const resent: CommandOutcome = await busOn(pair.replicaUrl).send(SERVICE, add("a"), context("wait-1"));
    expect(resent.duplicate).toBe(true);
    expect(await eventsOf("a")).toBe(1);
  });

  it("answers a typed error, not acceptance, when WAIT falls short of the replicas", async () => {
    const bus = busOn(pair.primaryUrl, { waitReplicas: 1, waitTimeoutMs: 300 });
    await pair.pauseReplica();
    const refused = bus.send(SERVICE, add("b"), context("wait-2"));
    await expect(refused).rejects.toBeInstanceOf(CommandNotReplicatedError);
    await expect(refused).rejects.toMatchObject({ code: "UNAVAILABLE", details: { required: 1, acknowledged: 0, queued: true } });
    pair.resumeReplica();
    await pair.untilInSync();
    // Resending it once the replica is back: accepted now, and it runs once.
    await workerOn(pair.primaryUrl);
    const outcome = await busOn(pair.primaryUrl, { waitReplicas: 1, waitTimeoutMs: 2000, timeoutMs: 10_000 }).send(SERVICE, add("b"), context("wait-2"));
    expect(outcome.streamVersion).toBe(1);
    expect(await eventsOf("b")).toBe(1);
  });

  it("without WAIT, commands lost by a failover come back when resent with the same commandId, and run once", async () => {
    await pair.pauseReplica(); // nothing written from here on reaches the replica
    const worker = await workerOn(pair.primaryUrl);
    const bus = busOn(pair.primaryUrl, { timeoutMs: 10_000 });
    // Ran before the failover: its events and its commandId are in PostgreSQL, its job and reply only on the primary.
    const ran = await bus.send(SERVICE, add("c"), context("lost-ran"));
    expect(ran.duplicate).toBe(false);
    await worker.close();
    // Accepted but not run: its job is only on the primary.
    expect(await codeOf(busOn(pair.primaryUrl, { timeoutMs: 300 }).send(SERVICE, add("d"), context("lost-queued")))).toBe("COMMAND_TIMEOUT");
    expect(await queuedOn(pair.primaryUrl, "lost-queued")).toBe(true);
    await closeAll();
    await pair.killPrimary();
    await pair.promoteReplica();
    expect(await queuedOn(pair.replicaUrl, "lost-ran")).toBe(false);
    expect(await queuedOn(pair.replicaUrl, "lost-queued")).toBe(false); // lost: a failover without WAIT loses writes

    await workerOn(pair.replicaUrl);
    const promoted = busOn(pair.replicaUrl, { timeoutMs: 10_000 });
    const again = await promoted.send(SERVICE, add("c"), context("lost-ran"));
    expect(again).toMatchObject({ duplicate: true, streamVersion: ran.streamVersion });
    const back = await promoted.send(SERVICE, add("d"), context("lost-queued"));
    expect(back).toMatchObject({ duplicate: false, streamVersion: 1 });
    expect((await promoted.send(SERVICE, add("d"), context("lost-queued"))).duplicate).toBe(true);
    expect(await eventsOf("c")).toBe(1);
    expect(await eventsOf("d")).toBe(1);
  });
});
