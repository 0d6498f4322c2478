import type { Redis } from "ioredis";
import { deleteKeys, testPrefix, testRedis } from "../../../test/support/testEnv";
import { RedisWrites } from "../core/redisWrites";
import { formatLogPosition, LOG_START, type LogPosition } from "../eventstore/logPosition";
import type { Fence } from "./checkpointer";
import { type CommitGuard, RedisCheckpointer } from "./redisCheckpointer";

let one: Redis;
let two: Redis;
let listener: Redis;
const prefix = testPrefix();
const checkpointKey = `${prefix}:{p}:checkpoint`;
const fenceKey = `${prefix}:{p}:fence`;
const active = `${prefix}:{p}:active`;
const doc = `${prefix}:{p}:doc:1`;
const channel = `${prefix}:{p}:topic:t`;

beforeAll(() => {
  one = testRedis();
  two = testRedis();
  listener = testRedis();
});

afterAll(async () => {
  await deleteKeys(one, prefix);
  await Promise.all([one.quit(), two.quit(), listener.quit()]);
});

beforeEach(() => deleteKeys(one, prefix));

const at = (n: number): LogPosition => ({ transactionId: BigInt(n), globalPosition: BigInt(n) });

function commit(checkpointer: RedisCheckpointer, guards: readonly CommitGuard[], writes: RedisWrites, next: LogPosition | null, fence?: Fence) {
  return checkpointer.commit({ checkpointKey, fenceKey, guards, writes, next, fence });
}

/** Everything published on `channel` while `work` runs (and a moment after, for delivery). */
async function heard(work: () => Promise<unknown>): Promise<string[]> {
  const messages: string[] = [];
  const onMessage = (ch: string, message: string) => ch === channel && messages.push(message);
  listener.on("message", onMessage);
  await listener.subscribe(channel);
  try {
    await work();
    await listener.ping(); // a round trip on a subscribed connection: anything published before has been delivered
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await listener.unsubscribe(channel);
    listener.off("message", onMessage);
  }
  return messages;
}

it("commits a batch's writes with its checkpoint; a stale one is refused with MISMATCH: nothing written, nothing published", async () => {
  const a = new RedisCheckpointer(one);
  const b = new RedisCheckpointer(two);
  const first = await a.begin(checkpointKey);
  const second = await b.begin(checkpointKey);
  expect(first.from).toEqual(LOG_START);

  const messages = await heard(async () => {
    const won = new RedisWrites().set(doc, "from b").publish(channel, "b committed");
    expect(await commit(b, second.guards, won, at(9))).toEqual({ success: true, counted: null });
    const stale = new RedisWrites().set(doc, "from a").publish(channel, "a committed").zadd(`${prefix}:{p}:idx:i`, "a");
    expect(await commit(a, first.guards, stale, at(3))).toEqual({ success: false, reason: "MISMATCH" });
  });
  expect(messages).toEqual(["b committed"]);
  expect(formatLogPosition(await a.read(checkpointKey))).toBe("9.9");
  expect(await one.get(doc)).toBe("from b");
  expect(await one.exists(`${prefix}:{p}:idx:i`)).toBe(0);
});

it("a lower fencing token after a higher one is refused with FENCED, even at the right checkpoint; an equal or higher one commits", async () => {
  const checkpointer = new RedisCheckpointer(one);
  const newOwner = await checkpointer.begin(checkpointKey);
  expect(await commit(checkpointer, newOwner.guards, new RedisWrites().set(doc, "owner 2"), at(5), { token: 2 })).toMatchObject({ success: true });
  expect(await one.get(fenceKey)).toBe("2");

  // The old owner read the checkpoint the new one left: only the token tells it is stale.
  const oldOwner = await checkpointer.begin(checkpointKey);
  expect(await commit(checkpointer, oldOwner.guards, new RedisWrites().set(doc, "owner 1").publish(channel, "x"), at(6), { token: 1 })).toEqual({
    success: false,
    reason: "FENCED",
  });
  expect(await one.get(doc)).toBe("owner 2");
  expect(formatLogPosition(await checkpointer.read(checkpointKey))).toBe("5.5");
  expect(await one.get(fenceKey)).toBe("2");

  expect(await commit(checkpointer, oldOwner.guards, new RedisWrites().set(doc, "owner 2 again"), at(6), { token: 2 })).toMatchObject({ success: true });
  const next = await checkpointer.begin(checkpointKey);
  expect(await commit(checkpointer, next.guards, new RedisWrites().set(doc, "owner 3"), at(7), { token: 3 })).toMatchObject({ success: true });
  expect(await one.get(fenceKey)).toBe("3");
  expect(await one.get(doc)).toBe("owner 3");
});

it("a moved active generation (a guard read at begin) refuses the batch with MISMATCH", async () => {
  const checkpointer = new RedisCheckpointer(one);
  await one.set(active, "1");
  const begun = await checkpointer.begin(checkpointKey);
  const guards: CommitGuard[] = [...begun.guards, { kind: "equals", key: active, value: "1" }];
  await two.set(active, "2");
  expect(await commit(checkpointer, guards, new RedisWrites().set(doc, "stale"), at(1))).toEqual({ success: false, reason: "MISMATCH" });
  expect(await one.get(doc)).toBeNull();
  expect(await one.get(checkpointKey)).toBeNull();
});

it("never moves the checkpoint back, whatever the guards say", async () => {
  const checkpointer = new RedisCheckpointer(one);
  await one.set(checkpointKey, "110.110");
  const begun = await checkpointer.begin(checkpointKey);
  expect(await commit(checkpointer, begun.guards, new RedisWrites().set(doc, "old"), at(11))).toEqual({ success: false, reason: "MISMATCH" });
  expect(await commit(checkpointer, begun.guards, new RedisWrites(), { transactionId: 110n, globalPosition: 110n })).toEqual({ success: false, reason: "MISMATCH" });
  expect(await one.get(checkpointKey)).toBe("110.110");
  expect(await one.get(doc)).toBeNull();
});

it("writes that keep the checkpoint are fenced too, and count with HINCRBY inside the same script", async () => {
  const checkpointer = new RedisCheckpointer(one);
  const attempts = `${prefix}:{p}:attempts`;
  const begun = await checkpointer.begin(checkpointKey);
  expect(await commit(checkpointer, begun.guards, new RedisWrites().hincrby(attempts, "e1", 1), null)).toEqual({ success: true, counted: 1 });
  expect(await commit(checkpointer, begun.guards, new RedisWrites().hincrby(attempts, "e1", 1), null)).toEqual({ success: true, counted: 2 });
  await two.set(checkpointKey, "1.1");
  expect(await commit(checkpointer, begun.guards, new RedisWrites().hincrby(attempts, "e1", 1), null)).toEqual({ success: false, reason: "MISMATCH" });
  expect(await one.hget(attempts, "e1")).toBe("2");
  expect(await one.get(checkpointKey)).toBe("1.1");
});

it("field and length guards: a parked entry or the number of parked events changed since begin refuses the commit", async () => {
  const checkpointer = new RedisCheckpointer(one);
  const parked = `${prefix}:{p}:parked`;
  await one.hset(parked, "e1", "first", "e2", "second");
  const begun = await checkpointer.begin(checkpointKey, [parked]);
  const guards: CommitGuard[] = [...begun.guards, { kind: "fieldEquals", key: parked, field: "e1", value: "first" }];

  await two.hset(parked, "e1", "changed");
  expect(await commit(checkpointer, guards, new RedisWrites().set(doc, "x"), null)).toEqual({ success: false, reason: "MISMATCH" });
  await two.hset(parked, "e1", "first");
  await two.hdel(parked, "e2");
  expect(await commit(checkpointer, guards, new RedisWrites().set(doc, "x"), null)).toEqual({ success: false, reason: "MISMATCH" });
  await two.hset(parked, "e2", "second");
  expect(await commit(checkpointer, guards, new RedisWrites().set(doc, "x").hdel(parked, "e1"), null)).toMatchObject({ success: true });
  expect(await one.get(doc)).toBe("x");
  expect(await one.hkeys(parked)).toEqual(["e2"]);
});
