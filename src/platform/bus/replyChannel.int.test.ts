import type { Redis } from "ioredis";
import { createTestDatabase, deleteKeys, testPrefix, testRedis, TEST_REDIS_URL, type TestDatabase } from "../../../test/support/testEnv";
import { type Add, counterDecider } from "../../../test/support/counterDecider";
import { CommandHandler, type CommandContext } from "../aggregate/commandHandler";
import { capturingLogger } from "../observability/logger";
import type { CommandExecutor } from "./commandBus";
import { CommandWorker } from "./commandWorker";
import { QueueCommandBus } from "./queueCommandBus";

/**
 * Replies come on the sending process's own pub/sub channel; the stored job
 * covers what the channel does not carry: a sender that joined a job another
 * process queued (its reply goes to that process) hears it by reading the job.
 */
const SERVICE = "counters";
let db: TestDatabase;
let redis: Redis;
let workerRedis: Redis;
let prefix: string;
let execute: CommandExecutor;
/** Holds commands on counter "b" until opened: a job still running when a second sender joins it. */
let openGate: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (openGate = resolve));
const closers: Array<() => Promise<unknown>> = [];

const add = (counter: string): Add => ({ type: "Add", counter, amount: 1 });
const context = (commandId: string): CommandContext => ({ commandId, actor: "test" });

function bus(options: { replyPollMs: number; timeoutMs: number }): QueueCommandBus {
  const b = new QueueCommandBus(redis, TEST_REDIS_URL, prefix, { attempts: 3, ...options });
  closers.push(() => b.close());
  return b;
}

async function worker(): Promise<void> {
  const w = new CommandWorker(SERVICE, execute, workerRedis, prefix, capturingLogger([]));
  closers.unshift(() => w.close());
  await w.waitUntilReady();
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = testRedis();
  workerRedis = testRedis();
  prefix = testPrefix();
  const handler = new CommandHandler(db.store, counterDecider);
  execute = async (command, ctx) => {
    const { counter } = command as Add;
    if (counter === "b") await gate;
    return handler.handle(`counter-${counter}`, command as Add, ctx);
  };
});

afterAll(async () => {
  openGate();
  for (const close of closers) await close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  workerRedis.disconnect();
  await db.drop();
});

describe("the direct reply channel", () => {
  it("answers through the channel, without reading the job (no poll within the wait)", async () => {
    await worker();
    const quiet = bus({ replyPollMs: 60_000, timeoutMs: 5000 });
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect((await quiet.send(SERVICE, add("a"), context(`direct-${i}`))).duplicate).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("answers a sender that joined another process's job by reading the job", async () => {
    const first = bus({ replyPollMs: 60_000, timeoutMs: 10_000 });
    const joiner = bus({ replyPollMs: 100, timeoutMs: 10_000 });
    const sent = first.send(SERVICE, add("b"), context("joined"));
    await new Promise((r) => setTimeout(r, 300)); // taken by the worker, held at the gate
    const joined = joiner.send(SERVICE, add("b"), context("joined"));
    await new Promise((r) => setTimeout(r, 300));
    openGate();
    const [a, b] = await Promise.all([sent, joined]);
    expect(b).toMatchObject({ streamId: a.streamId, streamVersion: a.streamVersion });
    expect(Number((await db.pool.query("SELECT count(*) FROM events WHERE stream_id = 'counter-b'")).rows[0].count)).toBe(1);
  });
});
