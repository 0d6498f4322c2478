import { randomBytes } from "node:crypto";
import { Queue, Worker } from "bullmq";
import type { Cluster } from "ioredis";
import { RedisCluster } from "./support/redisCluster";

// A real cluster of 6 redis-server processes (3 masters, 3 replicas) on free ports, torn down at the end.
let cluster: RedisCluster;
let client: Cluster;
const tag = `evtest:${randomBytes(4).toString("hex")}`;

beforeAll(async () => {
  cluster = await RedisCluster.start();
  client = cluster.client();
}, 120_000);

afterAll(async () => {
  await client?.quit();
  await cluster?.stop();
});

describe("test support: a real Redis Cluster", () => {
  it("runs 3 masters that serve all 16384 slots, each with a replica", async () => {
    const topology = await cluster.topology();
    const masters = topology.filter((n) => n.role === "master");
    expect(masters).toHaveLength(3);
    expect(masters.flatMap((m) => m.slots).reduce((sum, [a, b]) => sum + b - a + 1, 0)).toBe(16384);
    for (const master of masters) expect(topology.filter((n) => n.masterId === master.id)).toHaveLength(1);
  });

  it("puts keys of one {hash tag} in one slot, where MULTI works; untagged keys are CROSSSLOT", async () => {
    const keys = ["checkpoint", "doc:1", "changes"].map((k) => `{${tag}:p}:${k}`);
    const slots = await Promise.all(keys.map((k) => cluster.slotOf(k)));
    expect(new Set(slots).size).toBe(1);
    const results = await client.multi().set(keys[0]!, "7").hset(keys[1]!, "name", "a").xadd(keys[2]!, "*", "n", "1").exec();
    expect(results?.map(([error]) => error)).toEqual([null, null, null]);
    expect(await client.get(keys[0]!)).toBe("7");

    const untagged = [`${tag}:a`, `${tag}:b`, `${tag}:c`, `${tag}:d`];
    expect(new Set(await Promise.all(untagged.map((k) => cluster.slotOf(k)))).size).toBeGreaterThan(1);
    await expect(client.mget(...untagged)).rejects.toThrow(/CROSSSLOT/);
  });

  it("runs a BullMQ Queue and Worker under a {hash tag} prefix", async () => {
    const prefix = `{${tag}:bull}`;
    const queue = new Queue("commands", { connection: cluster.client(), prefix });
    let worker: Worker | undefined;
    try {
      const done = new Promise<unknown>((resolve, reject) => {
        worker = new Worker("commands", async (job) => ({ doubled: Number(job.data.n) * 2 }), { connection: cluster.client(), prefix });
        worker.on("completed", (_job, result) => resolve(result));
        worker.on("failed", (_job, error) => reject(error));
      });
      await queue.add("double", { n: 21 });
      await expect(done).resolves.toEqual({ doubled: 42 });
    } finally {
      await worker?.close();
      await queue.close();
    }
  });

  it("moves a slot with its keys to another master (WATCH is no fence there: ioredis resends MULTI/EXEC blind)", async () => {
    const key = `{${tag}:moved}:checkpoint`;
    const other = cluster.client();
    try {
      // Where the slot stays, WATCH fences: another client's write aborts the EXEC.
      await client.set(key, "109");
      await client.watch(key);
      await other.set(key, "110");
      expect(await client.multi().set(key, "10").exec()).toBeNull();
      expect(await client.get(key)).toBe("110");

      // A batch read checkpoint 110 under WATCH; then the slot moves and another replica advances it.
      const slot = await cluster.slotOf(key);
      await client.watch(key);
      const { from, to } = await cluster.moveSlot(slot);
      expect(from).not.toBe(to);
      expect((await cluster.ownerOf(slot)).port).toBe(to);
      expect(await other.get(key)).toBe("110"); // the key moved with its slot
      await other.set(key, "111");

      // The stale batch's EXEC: MOVED inside MULTI makes ioredis resend MULTI/SET/EXEC to the new owner,
      // which never saw the WATCH, so it commits over the newer value instead of aborting.
      const stale = await client.multi().set(key, "11").exec();
      expect(stale).not.toBeNull();
      expect(await client.get(key)).toBe("11");

      // A compare-and-set in one Lua script carries its own fence, wherever the slot lives.
      const compareAndSet = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0";
      await other.set(key, "111");
      await cluster.moveSlot(slot, from);
      expect(await client.eval(compareAndSet, 1, key, "110", "11")).toBe(0);
      expect(await client.get(key)).toBe("111");
      expect(await client.eval(compareAndSet, 1, key, "111", "112")).toBe(1);
    } finally {
      await other.quit();
    }
  });

  it("promotes a replica when a master is SIGKILLed; a write acknowledged by WAIT 1 survives", async () => {
    const key = `{${tag}:durable}:command`;
    const written = await client.pipeline().set(key, "accepted").call("WAIT", 1, 5000).exec();
    expect(written?.map(([error]) => error)).toEqual([null, null]);
    expect(written?.[1]?.[1]).toBe(1); // one replica has it

    const owner = await cluster.ownerOf(await cluster.slotOf(key));
    const { killed, promoted } = await cluster.killMaster(owner.port);
    expect(killed).toBe(owner.port);
    expect((await cluster.ownerOf(await cluster.slotOf(key))).port).toBe(promoted);
    expect(await eventually(() => client.get(key))).toBe("accepted");

    // The killed node comes back empty and follows the promoted one.
    await cluster.restartNode(killed);
    const topology = await cluster.topology();
    const back = topology.find((n) => n.port === killed);
    expect(back?.role).toBe("replica");
    expect(topology.find((n) => n.id === back?.masterId)?.port).toBe(promoted);
  });
});

/** The client finds the promoted master on its own; until it has, a read may fail. */
async function eventually<T>(read: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      return await read();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
