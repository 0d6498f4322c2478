import { Redis } from "ioredis";
import { silentLogger } from "../observability/logger";
import { eventually } from "../../../test/support/system";
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
  await eventually(async () => Number(((await publisher.pubsub("NUMSUB", keys.topic("order:o-1"))) as [string, number])[1]) === 1, "the subscriber");

  await publish(publisher, 1);
  await eventually(async () => received.length === 1, "the subscriber");

  // The subscriber's connection drops; changes keep coming and reach nobody over pub/sub.
  const back = new Promise((resolve) => subscriber.once("ready", resolve));
  subscriber.disconnect(true);
  await publish(publisher, 2);
  await publish(publisher, 3);
  await back;
  await publish(publisher, 4);

  await eventually(async () => received.includes(4) && received.includes(2), "the subscriber");
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
  await eventually(async () => Number(((await publisher.pubsub("NUMSUB", keys.topic("order:o-2"))) as [string, number])[1]) >= 1, "the subscriber");
  target.removeEventListener(keys.topic("order:o-2"), listener);
  await eventually(async () => Number(((await publisher.pubsub("NUMSUB", keys.topic("order:o-2"))) as [string, number])[1]) === 0, "the subscriber");
  await publish(publisher, 5, "order:o-2");
  await publisher.ping();
  expect(received).toEqual([]);
});
