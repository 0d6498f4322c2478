import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase } from "../../../test/support/testEnv";
import { CommandHandler, type CommandContext } from "../aggregate/commandHandler";
import { clientIdempotencyKey, commandFingerprint } from "../aggregate/idempotency";
import { DomainError } from "../core/errors";
import { PgListener } from "./pgListener";
import { capturingLogger } from "../observability/logger";
import type { CommandExecutor } from "./commandBus";
import { CommandInbox } from "./commandInbox";
import { CommandWorker } from "./commandWorker";
import { InboxCommandBus } from "./inboxCommandBus";
import { InboxWorker } from "./inboxWorker";
import { QueueCommandBus } from "./queueCommandBus";
import { fromReply } from "./wire";
import { type Add, type Added, counterDecider } from "../../../test/support/counterDecider";

/**
 * Idempotency keys are scoped to the sender and bound to the command: a
 * resend answers with the first result only when it is the same command from
 * the same sender, on every lane (handler, BullMQ queue, PostgreSQL inbox).
 */
const counter = counterDecider;

let db: TestDatabase;
let redis: Redis;
let prefix: string;
let handler: CommandHandler<Add, Added, number>;
let execute: CommandExecutor;
const logs: string[] = [];

const add = (name: string, amount: number): Add => ({ type: "Add", counter: name, amount });
/** A client's context, as the API edge builds it (see graphql/context.ts). */
const client = (actor: string, id: string, command: unknown): CommandContext => ({
  commandId: clientIdempotencyKey(actor, id),
  clientCommandId: id,
  actor,
  fingerprint: commandFingerprint(command),
});
const eventCount = async () => Number((await db.pool.query("SELECT count(*) FROM events")).rows[0].count);
const codeOf = (promise: Promise<unknown>) => promise.then(() => "none", (e: unknown) => (e instanceof DomainError ? e.code : String(e)));

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  prefix = testPrefix();
  handler = new CommandHandler(db.store, counter);
  execute = (command, context) => handler.handle(`counter-${(command as Add).counter}`, command as Add, context);
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await db.drop();
});

describe("the command handler (event store records)", () => {
  it("answers a resend of the same command from the same sender with the first result, appending nothing", async () => {
    const first = await execute(add("h1", 5), client("alice", "h-1", add("h1", 5)));
    const before = await eventCount();
    const again = await execute(add("h1", 5), client("alice", "h-1", add("h1", 5)));
    expect(again).toMatchObject({ duplicate: true, streamId: first.streamId, streamVersion: first.streamVersion, events: [] });
    expect(await eventCount()).toBe(before);
  });

  it("refuses another payload, type or target under a used key with IDEMPOTENCY_KEY_REUSED, appending nothing", async () => {
    await execute(add("h2", 5), client("alice", "h-2", add("h2", 5)));
    const before = await eventCount();
    const context = client("alice", "h-2", add("h2", 6));
    expect(await codeOf(execute(add("h2", 6), context))).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await codeOf(execute(add("other", 5), client("alice", "h-2", add("other", 5))))).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await eventCount()).toBe(before);
  });

  it("runs the same client id of another sender as that sender's own command", async () => {
    const alice = await execute(add("h3", 1), client("alice", "same-id", add("h3", 1)));
    const bob = await execute(add("h3", 1), client("bob", "same-id", add("h3", 1)));
    expect(alice.duplicate).toBe(false);
    expect(bob).toMatchObject({ duplicate: false, streamVersion: alice.streamVersion + 1 });
  });

  it("refuses an internal key sent by another actor (the key's first sender is recorded)", async () => {
    await execute(add("h4", 1), { commandId: "saga.x/step", actor: "saga:x" });
    expect(await codeOf(execute(add("h4", 1), { commandId: "saga.x/step", actor: "mallory" }))).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("records the client's own commandId in the events' metadata, and the scoped key as the idempotency record", async () => {
    await execute(add("h5", 1), client("alice", "meta-1", add("h5", 1)));
    const { rows } = await db.pool.query("SELECT metadata FROM events WHERE stream_id = 'counter-h5'");
    expect(rows[0].metadata).toMatchObject({ commandId: "meta-1", actor: "alice" });
    const record = await db.store.findCommandResult(clientIdempotencyKey("alice", "meta-1"));
    expect(record).toMatchObject({ actor: "alice", fingerprint: commandFingerprint(add("h5", 1)) });
  });
});

describe("the BullMQ queue lane", () => {
  let bus: QueueCommandBus;
  let worker: CommandWorker;
  const workerRedis = testRedis();
  const SERVICE = "counters";

  beforeAll(async () => {
    bus = new QueueCommandBus(redis, TEST_REDIS_URL, prefix, { timeoutMs: 15_000, attempts: 1 });
    worker = new CommandWorker(SERVICE, execute, workerRedis, prefix, capturingLogger(logs));
    await worker.waitUntilReady();
  });

  afterAll(async () => {
    await worker.close();
    await bus.close();
    workerRedis.disconnect();
  });

  it("answers a completed job's resend only when it is the same command; another payload is IDEMPOTENCY_KEY_REUSED", async () => {
    const first = await bus.send(SERVICE, add("q1", 5), client("alice", "q-1", add("q1", 5)));
    expect(first.duplicate).toBe(false);
    const before = await eventCount();
    // The job is completed in BullMQ: the resend is answered from it, without running again.
    expect(await bus.send(SERVICE, add("q1", 5), client("alice", "q-1", add("q1", 5)))).toMatchObject({ duplicate: true, streamVersion: 1 });
    const reused = await bus.sendRaw(SERVICE, add("q1", 7), client("alice", "q-1", add("q1", 7)), 15_000);
    expect(reused).toMatchObject({ ok: false, error: { code: "IDEMPOTENCY_KEY_REUSED", details: { commandId: "q-1" } } });
    expect(() => fromReply(reused)).toThrow(/q-1/);
    expect(await eventCount()).toBe(before);
  });

  it("runs another sender's command under the same client id", async () => {
    await bus.send(SERVICE, add("q2", 1), client("alice", "shared", add("q2", 1)));
    const bob = await bus.send(SERVICE, add("q2", 1), client("bob", "shared", add("q2", 1)));
    expect(bob).toMatchObject({ duplicate: false, streamVersion: 2 });
  });

  it("refuses a command larger than the queue takes (bounded retention by size)", async () => {
    const huge = { ...add("q3", 1), pad: "x".repeat(20_000) };
    expect(await codeOf(bus.send(SERVICE, huge, client("alice", "q-3", huge)))).toBe("VALIDATION");
  });
});

describe("the PostgreSQL inbox lane", () => {
  let listener: PgListener;
  let bus: InboxCommandBus;
  let worker: InboxWorker;
  const SERVICE = "counters-inbox";

  beforeAll(() => {
    listener = new PgListener(db.url, capturingLogger(logs));
    const inbox = new CommandInbox(db.pool);
    bus = new InboxCommandBus(inbox, listener, { timeoutMs: 15_000, pollMs: 200 });
    worker = new InboxWorker(SERVICE, execute, inbox, listener, capturingLogger(logs), undefined, { pollMs: 200 });
  });

  afterAll(async () => {
    await worker.stop();
    bus.close();
    await listener.stop();
  });

  it("answers an answered command's resend only when it is the same command; another payload is IDEMPOTENCY_KEY_REUSED", async () => {
    await bus.send(SERVICE, add("i1", 5), client("alice", "i-1", add("i1", 5)));
    const before = await eventCount();
    expect(await bus.send(SERVICE, add("i1", 5), client("alice", "i-1", add("i1", 5)))).toMatchObject({ duplicate: true });
    expect(await codeOf(bus.send(SERVICE, add("i1", 9), client("alice", "i-1", add("i1", 9))))).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await codeOf(bus.send(SERVICE, add("i1", 5), { ...client("alice", "i-1", add("i1", 5)), actor: "bob" }))).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await eventCount()).toBe(before);
  });

  it("runs another sender's command under the same client id", async () => {
    await bus.send(SERVICE, add("i2", 1), client("alice", "shared-i", add("i2", 1)));
    expect(await bus.send(SERVICE, add("i2", 1), client("bob", "shared-i", add("i2", 1)))).toMatchObject({ duplicate: false, streamVersion: 2 });
  });
});
