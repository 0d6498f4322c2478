import { Redis } from "ioredis";
import { RedisWrites } from "../src/platform/core/redisWrites";
import { formatLogPosition, type LogPosition } from "../src/platform/eventstore/logPosition";
import { RedisCheckpointer } from "../src/platform/processing/redisCheckpointer";
import { redisServer, thisProcess, withCpu } from "./lib/cpuMeter";
import { emitCpu } from "./lib/cpuReport";
import { startPrivateRedis } from "./lib/privateRedis";
import type { Scenario } from "./lib/scenario";
import { median, repeat } from "./lib/stats";

/**
 * Batches/s of a projection's commit (decision 0025): the Lua compare-and-set
 * (RedisCheckpointer: guards on the checkpoint, the active generation and the
 * parked count, then the writes and the publishes in one script) against the
 * WATCH/MULTI/EXEC it replaced (WATCH the active pointer, GET it, WATCH the
 * checkpoint, GET it, then MULTI with the same writes). Same writes on both:
 * per document a SET, a ZADD and a PUBLISH, then the checkpoint. One client,
 * one batch after the other, on a Redis of the benchmark's own.
 */
export const commitScenario: Scenario = {
  name: "commit",
  summary: "projection batches/s through the Lua commit; baseline: WATCH/MULTI/EXEC of the same writes",
  flags: {
    batches: "batches per measurement (default 2000; 500 in the suite)",
    docs: "documents per batch, comma-separated (default 1,10,100)",
  },
  async run(ctx) {
    const batches = ctx.args.int("batches", { single: 2000, suite: 500, smoke: 20 }, ctx.mode);
    const docCounts = ctx.args.intList("docs", { single: [1, 10, 100], suite: [10], smoke: [10] }, ctx.mode);
    const server = await startPrivateRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    try {
      const sources = [thisProcess(), await redisServer(redis)];
      for (const docs of docCounts) {
        const label = `${docs} docs per batch`;
        await measure(redis, "lua", docs, 50, 0);
        await measure(redis, "watch", docs, 50, 0);
        const runs = await repeat(ctx.runs, async (run) => {
          ctx.progress(`${label}: run ${run + 1}/${ctx.runs}`);
          const timed = async (path: Path) => {
            const { value, cpu } = await withCpu(sources, () => measure(redis, path, docs, batches, run + 1));
            return { rate: value, cpuUs: (cpu.total * 1000) / batches };
          };
          // Alternate which goes first, so neither always runs on a warmer server.
          const first = run % 2 === 0 ? await timed("lua") : await timed("watch");
          const second = run % 2 === 0 ? await timed("watch") : await timed("lua");
          return run % 2 === 0 ? { lua: first, watch: second } : { lua: second, watch: first };
        });
        const params = { docs, batches, runs: ctx.runs };
        ctx.emit({
          label,
          value: median(runs.map((r) => r.lua.rate)),
          unit: "batches/s",
          baseline: median(runs.map((r) => r.watch.rate)),
          params,
          target: { on: "ratio", op: ">=", threshold: 0.9 },
        });
        const figures = { cpu: median(runs.map((r) => r.lua.cpuUs)), baseCpu: median(runs.map((r) => r.watch.cpuUs)) };
        emitCpu(ctx, { label, op: "batch", scale: "µs", figures, baselineKey: "baseCpu", params });
      }
    } finally {
      redis.disconnect();
      await server.stop();
    }
  },
};

type Path = "lua" | "watch";

/** Commits `batches` batches of `docs` documents one after the other; batches/s. Each run writes keys of its own. */
async function measure(redis: Redis, path: Path, docs: number, batches: number, run: number): Promise<number> {
  const root = `bench:commit:${path}:${docs}:${run}`;
  const keys = { active: `${root}:active`, checkpoint: `${root}:1:checkpoint`, fence: `${root}:1:fence`, parked: `${root}:1:parked` };
  const checkpointer = new RedisCheckpointer(redis);
  const at = (n: number): LogPosition => ({ transactionId: BigInt(n), globalPosition: BigInt(n) });
  const started = performance.now();
  for (let b = 1; b <= batches; b++) {
    const doc = (d: number) => ({ key: `${root}:1:doc:${(b * docs + d) % 1000}`, json: JSON.stringify({ b, d, payload: "x".repeat(200) }) });
    if (path === "lua") {
      const active = await redis.get(keys.active);
      const begun = await checkpointer.begin(keys.checkpoint, [keys.parked]);
      const writes = new RedisWrites();
      for (let d = 0; d < docs; d++) {
        const { key, json } = doc(d);
        writes.set(key, json).zadd(`${root}:1:idx:all`, key).publish(`${root}:topic:t`, json);
      }
      const guards = [{ kind: "equals" as const, key: keys.active, value: active }, ...begun.guards];
      const result = await checkpointer.commit({ checkpointKey: keys.checkpoint, fenceKey: keys.fence, guards, writes, next: at(b) });
      if (!result.success) throw new Error(`commit refused: ${result.reason}`);
    } else {
      await redis.watch(keys.active);
      await redis.get(keys.active);
      await redis.watch(keys.checkpoint);
      await redis.get(keys.checkpoint);
      const tx = redis.multi();
      for (let d = 0; d < docs; d++) {
        const { key, json } = doc(d);
        tx.set(key, json).zadd(`${root}:1:idx:all`, 0, key).publish(`${root}:topic:t`, json);
      }
      tx.set(keys.checkpoint, formatLogPosition(at(b)));
      if ((await tx.exec()) === null) throw new Error("EXEC aborted");
    }
  }
  const rate = (batches * 1000) / (performance.now() - started);
  await deleteUnder(redis, root);
  return rate;
}

async function deleteUnder(redis: Redis, root: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${root}:*`, "COUNT", 1000);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== "0");
}
