import { Redis } from "ioredis";
import { silentLogger } from "../observability/logger";
import { deleteKeys, testPrefix, TEST_REDIS_URL } from "../../../test/support/testEnv";
import { ReadModelKeys } from "./keys";
import { publishChanges } from "./projectionRunner";
import { replayingEventTarget } from "./replayingEventTarget";

const keys = new ReadModelKeys(testPrefix());
const connections: Redis[] = [];
const connect = () => {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(connection);
  return connection;
};

afterAll(async () => {
  await deleteKeys(connections[0]!, keys.prefix);
  await Promise.all(connections.map((c) => c.quit()));
});

const publish = async (publisher: Redis, n: number, topic = "order:o-1") => {
  const tx = publisher.multi();
  publishChanges(tx, keys, [{ topic, message: { id: "o-1", n } }]);
  await tx.exec();
};

it("replays what was published while the subscriber was disconnected, before anything newer", async () => {
  const [publisher, subscriber, reader] = [connect(), connect(), connect()];
  const target = replayingEventTarget({ subscriber, reader, changeLog: keys.changeLog, log: silentLogger() });
  const received: number[] = [];
  target.addEventListener(keys.topic("order:o-1"), (event) => received.push((event.detail as { n: number }).n));
  await until(async () => Number(((await publisher.pubsub("NUMSUB", keys.topic("order:o-1"))) as [string, number])[1]) === 1);

  await publish(publisher, 1);
  await until(async () => received.length === 1);

  // The subscriber's connection drops; changes keep coming and reach nobody over pub/sub.
  const back = new Promise((resolve) => subscriber.once("ready", resolve));
  subscriber.disconnect(true);
  await publish(publisher, 2);
  await publish(publisher, 3);
  await back;
  await publish(publisher, 4);

  await until(async () => received.includes(4) && received.includes(2));
  // The replay overlaps what was delivered before the drop (its margin, and a change published while the
  // connection was still closing); subscribers drop repeats (inCommitOrder). What matters: nothing
  // missing, and every missed change before the newer one.
  expect([...new Set(received)]).toEqual([1, 2, 3, 4]);
});

it("stops delivering to a listener once it is removed", async () => {
  const [publisher, subscriber, reader] = [connect(), connect(), connect()];
  const target = replayingEventTarget({ subscriber, reader, changeLog: keys.changeLog, log: silentLogger() });
  const received: unknown[] = [];
  const listener = (event: CustomEvent) => received.push(event.detail);
  target.addEventListener(keys.topic("order:o-2"), listener);
  await until(async () => Number(((await publisher.pubsub("NUMSUB", keys.topic("order:o-2"))) as [string, number])[1]) >= 1);
  target.removeEventListener(keys.topic("order:o-2"), listener);
  await until(async () => Number(((await publisher.pubsub("NUMSUB", keys.topic("order:o-2"))) as [string, number])[1]) === 0);
  await publish(publisher, 5, "order:o-2");
  await publisher.ping();
  expect(received).toEqual([]);
});

async function until(probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}
