import type { Redis } from "ioredis";
import { deleteKeys, testPrefix, testRedis } from "../../../test/support/testEnv";
import { formatLogPosition, LOG_START } from "../eventstore/logPosition";
import { RedisCheckpointer } from "./redisCheckpointer";

let one: Redis;
let two: Redis;
const prefix = testPrefix();
const key = `${prefix}:proj:test:checkpoint`;
const fence = `${prefix}:proj:test:active`;

beforeAll(() => {
  one = testRedis();
  two = testRedis();
});

afterAll(async () => {
  await deleteKeys(one, prefix);
  await Promise.all([one.quit(), two.quit()]);
});

const target = () => Promise.resolve({ checkpointKey: key });

it("commits a batch's writes with its checkpoint, and refuses a stale batch: nothing of it is written", async () => {
  const a = new RedisCheckpointer(one);
  const b = new RedisCheckpointer(two);
  const first = await a.begin([fence], target);
  const second = await b.begin([fence], target);
  expect(first.from).toEqual(LOG_START);
  expect(second.from).toEqual(LOG_START);

  const won = b.transaction().set(`${prefix}:doc`, "from b");
  expect(await b.commit(won, key, { transactionId: 5n, globalPosition: 9n })).toEqual({ success: true });

  const stale = a.transaction().set(`${prefix}:doc`, "from a");
  expect(await a.commit(stale, key, { transactionId: 5n, globalPosition: 3n })).toEqual({ success: false, reason: "MISMATCH" });
  expect(formatLogPosition(await a.read(key))).toBe("5.9");
  expect(await one.get(`${prefix}:doc`)).toBe("from b");
});

it("a fence key moved since begin (a rebuild switched the active generation) also refuses the batch", async () => {
  const a = new RedisCheckpointer(one);
  const { from } = await a.begin([fence], target);
  await two.set(fence, "2");
  expect(await a.commit(a.transaction(), key, { transactionId: from.transactionId + 1n, globalPosition: 1n })).toEqual({ success: false, reason: "MISMATCH" });
  expect(formatLogPosition(await a.read(key))).toBe(formatLogPosition(from));
});
