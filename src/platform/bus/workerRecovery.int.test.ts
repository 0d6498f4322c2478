import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { deleteKeys, testPrefix, testRedis } from "../../../test/support/testEnv";
import { bullPrefix } from "../core/redis";
import { capturingLogger } from "../observability/logger";
import { WorkerRecovery } from "./workerRecovery";

/**
 * A worker "dies" holding a job: it took the job (lock for 30 s, BullMQ's
 * default) and has no connection left to Redis, as after a SIGKILL. A worker
 * with recovery takes the job back long before the lock ends. A holder that is
 * still connected (alive, maybe frozen) keeps its job: never twice at once.
 */
const QUEUE = "recovery-test";
let redis: Redis;
let prefix: string;
let queue: Queue;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  redis = testRedis();
  prefix = testPrefix();
  queue = new Queue(QUEUE, { connection: redis, prefix: bullPrefix(prefix, QUEUE) });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await queue.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

/** Takes one job by hand, as a worker named `name` would, and never finishes it (its process is "gone"). */
async function holdOneJob(name: string): Promise<string> {
  const connection = redis.duplicate();
  const holder = new Worker(QUEUE, null, { connection, prefix: bullPrefix(prefix, QUEUE), name, autorun: false });
  const job = await holder.getNextJob("dead-token");
  expect(job).toBeDefined();
  closers.push(async () => {
    await holder.close(true);
    await connection.quit();
  });
  return job!.id!;
}

function startRecoveringWorker(ran: string[], logs: string[]) {
  const connection = redis.duplicate();
  const recovery = new WorkerRecovery(connection, 1000, capturingLogger(logs));
  const worker = new Worker(QUEUE, async (job) => void ran.push(job.id!), { connection, prefix: bullPrefix(prefix, QUEUE), ...recovery.workerOptions() });
  closers.push(async () => {
    await worker.close();
    await recovery.stop();
    await connection.quit();
  });
  return { started: worker.waitUntilReady().then(() => recovery.start(worker)) };
}

const until = async (probe: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!probe() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return probe();
};

it("takes back, within the bound, a job whose worker has no connection left", async () => {
  await queue.add("work", { n: 1 });
  const jobId = await holdOneJob("dead-worker");
  expect(await redis.pttl(`${bullPrefix(prefix, QUEUE)}:${QUEUE}:${jobId}:lock`)).toBeGreaterThan(20_000);

  const ran: string[] = [];
  const logs: string[] = [];
  const { started } = startRecoveringWorker(ran, logs);
  await started;
  // Well within the 30 s lock the dead worker left: only the reclaim can have freed it.
  expect(await until(() => ran.includes(jobId), 10_000)).toBe(true);
  expect(ran).toEqual([jobId]);
  expect(logs.join("\n")).toMatch(/took back 1 job/);
});

it("leaves alone a job whose worker is still connected, however long it takes", async () => {
  await queue.add("work", { n: 2 });
  const jobId = await holdOneJob("live-worker");
  // The holder's presence: a connection under its name, as WorkerRecovery keeps one open.
  const presence = redis.duplicate({ connectionName: "eventline-worker:live-worker" });
  await presence.client("SETNAME", "eventline-worker:live-worker");
  closers.push(() => presence.quit());

  const ran: string[] = [];
  const logs: string[] = [];
  const { started } = startRecoveringWorker(ran, logs);
  await started;
  await new Promise((r) => setTimeout(r, 3000)); // several reclaim and stall passes
  expect(ran).toEqual([]);
  expect(await queue.getJobState(jobId)).toBe("active");
  expect(logs.join("\n")).not.toMatch(/took back/);
});
