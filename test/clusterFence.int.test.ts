import { randomBytes } from "node:crypto";
import { type Cluster, Redis } from "ioredis";
import { RedisWrites } from "../src/platform/core/redisWrites";
import { formatLogPosition, type LogPosition } from "../src/platform/eventstore/logPosition";
import { RedisCheckpointer } from "../src/platform/processing/redisCheckpointer";
import { RedisCluster } from "./support/redisCluster";

// The commit script on a real Redis Cluster (3 masters, 3 replicas): the fence WATCH could not be there
// (test/redisCluster.int.test.ts shows a stale MULTI/EXEC committing after a slot moved).
let cluster: RedisCluster;
let client: Cluster;
let other: Cluster;
const tag = `{evtest:${randomBytes(4).toString("hex")}:p}`;
const checkpointKey = `${tag}:1:checkpoint`;
const fenceKey = `${tag}:1:fence`;
const doc = `${tag}:1:doc:a`;
const channel = `${tag}:topic:a`;

beforeAll(async () => {
  cluster = await RedisCluster.start();
  client = cluster.client();
  other = cluster.client();
}, 120_000);

afterAll(async () => {
  await Promise.all([client?.quit(), other?.quit()]);
  await cluster?.stop();
});

const at = (n: number): LogPosition => ({ transactionId: BigInt(n), globalPosition: BigInt(n) });

it("refuses a stale batch after its slot moved to another master, where a WATCHed MULTI/EXEC committed blind", async () => {
  const stale = new RedisCheckpointer(client);
  const newer = new RedisCheckpointer(other);
  await client.set(checkpointKey, formatLogPosition(at(110)));
  const read = await stale.begin(checkpointKey);
  expect(read.from).toEqual(at(110));

  const slot = await cluster.slotOf(checkpointKey);
  const { from, to } = await cluster.moveSlot(slot);
  expect(from).not.toBe(to);

  // Another runner advances the checkpoint on the slot's new master (its script cache is empty: NOSCRIPT, then EVAL).
  const begun = await newer.begin(checkpointKey);
  expect(await newer.commit({ checkpointKey, fenceKey, guards: begun.guards, writes: new RedisWrites().set(doc, "at 111"), next: at(111) })).toMatchObject({
    success: true,
  });

  // The stale batch, whether it moves the checkpoint on or back, writes nothing.
  for (const next of [at(120), at(11)]) {
    expect(await stale.commit({ checkpointKey, fenceKey, guards: read.guards, writes: new RedisWrites().set(doc, "stale"), next })).toEqual({
      success: false,
      reason: "MISMATCH",
    });
  }
  expect(await client.get(checkpointKey)).toBe("111.111");
  expect(await client.get(doc)).toBe("at 111");
  expect((await cluster.ownerOf(slot)).port).toBe(to);
}, 60_000);

it("refuses a fenced-out owner's batch, and publishes with SPUBLISH to the slot's shard only when a commit succeeds", async () => {
  const checkpointer = new RedisCheckpointer(client);
  const owner = await cluster.ownerOf(await cluster.slotOf(channel));
  const subscriber = new Redis({ host: "127.0.0.1", port: owner.port, maxRetriesPerRequest: 0 });
  const heard: string[] = [];
  subscriber.on("smessage", (ch: string, message: string) => ch === channel && heard.push(message));
  try {
    await subscriber.ssubscribe(channel);
    const first = await checkpointer.begin(checkpointKey);
    const newOwner = new RedisWrites().set(doc, "owner 2").publish(channel, "owner 2 committed");
    expect(await checkpointer.commit({ checkpointKey, fenceKey, guards: first.guards, writes: newOwner, next: at(200), fence: { token: 2 } })).toMatchObject({
      success: true,
    });

    const second = await checkpointer.begin(checkpointKey);
    const oldOwner = new RedisWrites().set(doc, "owner 1").publish(channel, "owner 1 committed");
    expect(await checkpointer.commit({ checkpointKey, fenceKey, guards: second.guards, writes: oldOwner, next: at(201), fence: { token: 1 } })).toEqual({
      success: false,
      reason: "FENCED",
    });
    await subscriber.ping();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual(["owner 2 committed"]);
    expect(await client.get(doc)).toBe("owner 2");
    expect(await client.get(fenceKey)).toBe("2");
    expect(await client.get(checkpointKey)).toBe("200.200");
  } finally {
    subscriber.disconnect();
  }
}, 60_000);

it("refuses, before anything runs, a commit whose keys are not all in the batch's hash tag", async () => {
  const checkpointer = new RedisCheckpointer(client);
  const begun = await checkpointer.begin(checkpointKey);
  const outside = `evtest:${randomBytes(4).toString("hex")}:untagged`;
  const writes = new RedisWrites().set(doc, "half").set(outside, "other slot");
  await expect(checkpointer.commit({ checkpointKey, fenceKey, guards: begun.guards, writes, next: at(300) })).rejects.toThrow(/CROSSSLOT/);
  expect(await client.get(doc)).toBe("owner 2");
  expect(await client.get(checkpointKey)).toBe("200.200");
}, 60_000);
