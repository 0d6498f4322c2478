import { Worker } from "bullmq";
import { createRedis } from "../../src/platform/core/redis";
import { HOP_GROUP, HOP_QUEUE, hopStream, isHopTransport } from "./hopTransport";

/**
 * The `hop` benchmark's far side: a worker that does nothing but answer, in a
 * process of its own like a service, so a hop's cost is the transport's alone.
 *  - bullmq: a BullMQ Worker whose processor publishes the job's id on the
 *    caller's reply channel (what the command worker does before BullMQ
 *    stores the result), then returns;
 *  - stream: a consumer group read (XREADGROUP, up to 64 entries a call),
 *    each entry answered the same way and acknowledged (XACK), one pipeline
 *    per batch.
 *
 *   HOP_TRANSPORT=bullmq|stream REDIS_URL=... HOP_PREFIX=... HOP_CONCURRENCY=8 node dist/bench/lib/hopWorker.js
 */
async function main() {
  const transport = process.env.HOP_TRANSPORT;
  const redisUrl = process.env.REDIS_URL;
  const prefix = process.env.HOP_PREFIX;
  const concurrency = Number(process.env.HOP_CONCURRENCY ?? 8);
  if (!isHopTransport(transport) || !redisUrl || !prefix) throw new Error("hopWorker needs HOP_TRANSPORT (bullmq|stream), REDIS_URL and HOP_PREFIX");
  const publisher = createRedis(redisUrl);
  let stop: () => Promise<void>;
  if (transport === "bullmq") {
    const worker = new Worker<{ replyTo: string }>(HOP_QUEUE, async (job) => void (await publisher.publish(job.data.replyTo, job.id!)), {
      connection: createRedis(redisUrl),
      prefix,
      concurrency,
      // The command worker's settings (bus/queueCommandBus.ts): completed jobs are kept, then trimmed.
      removeOnComplete: { age: 3600, count: 10_000 },
    });
    await worker.waitUntilReady();
    stop = () => worker.close();
  } else {
    const reader = createRedis(redisUrl);
    const stream = hopStream(prefix);
    await reader.xgroup("CREATE", stream, HOP_GROUP, "$", "MKSTREAM").catch(() => undefined);
    let running = true;
    const loop = (async () => {
      while (running) {
        const entries = entriesOf(await reader.xreadgroup("GROUP", HOP_GROUP, "worker", "COUNT", 64, "BLOCK", 200, "STREAMS", stream, ">"));
        if (entries.length === 0) continue;
        const batch = publisher.pipeline();
        for (const { fields } of entries) batch.publish(fields.replyTo!, fields.id!);
        batch.xack(stream, HOP_GROUP, ...entries.map(({ id }) => id));
        await batch.exec();
      }
    })();
    stop = async () => {
      running = false;
      await loop;
      reader.disconnect();
    };
  }
  console.log(`hop worker ready (${transport})`);
  process.once("SIGTERM", () => void stop().finally(() => {
    publisher.disconnect();
    process.exit(0);
  }));
}

/** XREADGROUP's reply for one stream: `[[stream, [[id, [field, value, ...]], ...]]]`, or null when the block timed out. */
function entriesOf(reply: unknown): Array<{ id: string; fields: Record<string, string> }> {
  const streams = Array.isArray(reply) ? reply : [];
  const entries: unknown = Array.isArray(streams[0]) ? streams[0][1] : [];
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) return [];
    const list: unknown[] = entry[1];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < list.length; i += 2) {
      const [name, value] = [list[i], list[i + 1]];
      if (typeof name === "string" && typeof value === "string") fields[name] = value;
    }
    return [{ id: entry[0], fields }];
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
