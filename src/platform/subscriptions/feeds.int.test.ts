import { Redis } from "ioredis";
import { DomainError, ErrorCode } from "../core/errors";
import { formatLogPosition, LOG_START, type LogPosition } from "../eventstore/logPosition";
import { ReadModelKeys } from "../projection/keys";
import { publishChanges } from "./publish";
import { RedisWrites } from "../core/redisWrites";
import { RedisCheckpointer } from "../processing/redisCheckpointer";
import { silentLogger } from "../observability/logger";
import { eventually } from "../../../test/support/system";
import { deleteKeys, testPrefix, TEST_REDIS_URL } from "../../../test/support/testEnv";
import { startFaultProxy, targetOf } from "../../../test/support/faultProxy";
import { ChangeFeeds, FeedFailure, type FeedItem } from "./feeds";

const keys = new ReadModelKeys(testPrefix());
const connections: Redis[] = [];
const connect = () => {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(connection);
  return connection;
};
const opened: Array<AsyncIterableIterator<FeedItem>> = [];
const admin = connect();

afterAll(async () => {
  await Promise.all(opened.map((feed) => feed.return?.()));
  await deleteKeys(admin, keys.prefix);
  await Promise.all(connections.map((c) => c.quit()));
});

const at = (n: number): LogPosition => ({ transactionId: BigInt(n), globalPosition: BigInt(n) });
const token = (n: number) => `${n}.${n}`;

/** Plays the projector: one batch per call, published and logged in one commit script, as projectionRunner does. */
function projector(projection: string, maxBatches = 10_000) {
  const publisher = new RedisCheckpointer(connect());
  const own = `${keys.prefix}:player:${projection}`;
  let checkpoint = LOG_START;
  return {
    async batch(changes: Array<{ topic: string; n: number }>, end = Math.max(...changes.map((c) => c.n))) {
      const tx = new RedisWrites();
      const notifications = changes.map(({ topic, n }) => ({
        topic,
        message: { projection, id: topic, document: { n }, eventType: "Added", eventId: `e-${n}`, streamVersion: n, position: token(n) },
      }));
      publishChanges(tx, keys, projection, notifications, { from: checkpoint, to: at(end), maxBatches });
      // The checkpoint stays put: `restart` replays positions the change log must take back.
      expect(await publisher.commit({ checkpointKey: `${own}:checkpoint`, fenceKey: `${own}:fence`, guards: [], writes: tx, next: null })).toMatchObject({ success: true });
      checkpoint = at(end);
    },
    restart: () => (checkpoint = LOG_START),
  };
}

/** Opens a feed and drains it in the background into `received` (positions as numbers). */
async function follow(feeds: ChangeFeeds, projection: string, topic: string, after: number | null) {
  const feed = await feeds.open({ projection, topic, after: after === null ? null : at(after) });
  opened.push(feed);
  const received: number[] = [];
  const failures: DomainError[] = [];
  void (async () => {
    for await (const item of feed) {
      if (item instanceof FeedFailure) failures.push(item.error);
      else received.push(Number(item.position.split(".")[1]));
    }
  })();
  return { received, failures, stop: () => feed.return?.() };
}

const newFeeds = () => new ChangeFeeds({ subscriber: connect(), reader: connect(), keys, log: silentLogger(), pageSize: 7 });

it("replays every change after a position, then goes live: no gap and no repeat at the seam, whenever it opens", async () => {
  const feeds = newFeeds();
  const p = projector("seam");
  const mine: number[] = [];
  const following: Array<{ after: number | null; feed: Awaited<ReturnType<typeof follow>> }> = [];
  let done = false;
  const publishing = (async () => {
    for (let n = 1; n <= 400; n += 2) {
      // Two topics in one projection: the feed takes only its own, and other topics' changes move it along.
      await p.batch([{ topic: "t", n }, { topic: "other", n: n + 1 }]);
      mine.push(n);
    }
    done = true;
  })();
  // Feeds open while batches keep coming, each resuming a little behind the newest one, some live only.
  for (let i = 0; !done; i++) {
    const after = i % 3 === 2 ? null : Math.max(0, (mine.at(-1) ?? 0) - (i % 2 ? 30 : 1));
    following.push({ after, feed: await follow(feeds, "seam", "t", after) });
  }
  await publishing;
  // One change after every feed is open: a live-only feed that opened after the last batch above has nothing
  // to receive until then, and with it every feed has a last change to reach.
  await p.batch([{ topic: "t", n: 401 }]);
  mine.push(401);
  expect(following.length).toBeGreaterThan(10);
  for (const { after, feed } of following) {
    await eventually(async () => feed.received.at(-1) === 401, "the feed to reach the last change");
    if (after === null) {
      // Live from when it opened: a contiguous run up to the end.
      const first = mine.indexOf(feed.received[0]!);
      expect(feed.received).toEqual(mine.slice(first));
    } else {
      expect(feed.received).toEqual(mine.filter((n) => n > after));
    }
    expect(feed.failures).toEqual([]);
  }
});

it("hands every live feed of a channel the same change object, so a subscription's result can be shared", async () => {
  const feeds = newFeeds();
  const p = projector("shared");
  const [a, b] = [await feeds.open({ projection: "shared", topic: "t", after: null }), await feeds.open({ projection: "shared", topic: "t", after: null })];
  opened.push(a, b);
  // The first change may reach a feed from its opening replay of the change log (a read of its own);
  // once both have it, both are live, and the next change comes through pub/sub alone.
  await p.batch([{ topic: "t", n: 1 }]);
  await Promise.all([a.next(), b.next()]);
  await p.batch([{ topic: "t", n: 2 }]);
  const [fromA, fromB] = await Promise.all([a.next(), b.next()]);
  expect(fromA.value).toMatchObject({ id: "t", position: formatLogPosition(at(2)) });
  expect(fromB.value).toBe(fromA.value);
});

it("replays what was published while its subscriber connection was down, before anything newer, once", async () => {
  const subscriber = connect();
  const feeds = new ChangeFeeds({ subscriber, reader: connect(), keys, log: silentLogger() });
  const p = projector("drop");
  await p.batch([{ topic: "t", n: 1 }]);
  const feed = await follow(feeds, "drop", "t", 0);
  await eventually(async () => feed.received.length === 1, "the first change");

  const back = new Promise((resolve) => subscriber.once("ready", resolve));
  subscriber.disconnect(true);
  for (let n = 2; n <= 30; n++) await p.batch([{ topic: "t", n }]);
  await back;
  for (let n = 31; n <= 40; n++) await p.batch([{ topic: "t", n }]);

  await eventually(async () => feed.received.at(-1) === 40, "every change");
  expect(feed.received).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
});

it("refuses to resume past the window with RESUME_WINDOW_EXCEEDED naming the oldest position, and resumes from that one", async () => {
  const feeds = newFeeds();
  const p = projector("window", 5);
  for (let n = 1; n <= 12; n++) await p.batch([{ topic: "t", n }]);

  const refused = await feeds.open({ projection: "window", topic: "t", after: at(3) }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(refused).toBeInstanceOf(DomainError);
  expect(refused).toMatchObject({ code: ErrorCode.RESUME_WINDOW_EXCEEDED, details: { after: token(3), oldest: token(7) } });

  const feed = await follow(feeds, "window", "t", 7);
  await eventually(async () => feed.received.length === 5, "the kept changes");
  expect(feed.received).toEqual([8, 9, 10, 11, 12]);
});

it("lets through neither repeats nor the past when the projector publishes the log again (Redis lost its checkpoints)", async () => {
  const feeds = newFeeds();
  const p = projector("again");
  for (let n = 1; n <= 5; n++) await p.batch([{ topic: "t", n }]);
  const feed = await follow(feeds, "again", "t", 2);
  await eventually(async () => feed.received.length === 3, "the replay");

  p.restart();
  for (let n = 1; n <= 8; n++) await p.batch([{ topic: "t", n }]);
  await eventually(async () => feed.received.at(-1) === 8, "the new changes");
  expect(feed.received).toEqual([3, 4, 5, 6, 7, 8]);
  // The log started over with the new run, so a client resuming after 2 gets 3..8 from it.
  const resumed = await follow(feeds, "again", "t", 2);
  await eventually(async () => resumed.received.at(-1) === 8, "the resumed feed");
  expect(resumed.received).toEqual([3, 4, 5, 6, 7, 8]);
});

it("ends at once when the client unsubscribes, even while waiting, and unsubscribes from Redis", async () => {
  const publisher = connect();
  const feeds = newFeeds();
  const feed = await feeds.open({ projection: "quiet", topic: "q", after: null });
  const waiting = feed.next();
  await feed.return?.();
  await expect(waiting).resolves.toEqual({ done: true, value: undefined });
  await eventually(async () => Number(((await publisher.pubsub("NUMSUB", keys.topic("quiet", "q"))) as [string, number])[1]) === 0, "the unsubscribe");
});

it("starts a new log where its projection stood, so a fresh system resumes from the start of the log", async () => {
  const feeds = newFeeds();
  const p = projector("fresh");
  await p.batch([], 4); // events no topic hears of: nothing published, yet the new log starts at 0
  await p.batch([], 6); // and once it exists, such batches are not logged
  for (let n = 7; n <= 9; n++) await p.batch([{ topic: "t", n }]);
  expect(await admin.xlen(keys.changeLog("fresh"))).toBe(4);

  const feed = await follow(feeds, "fresh", "t", 0);
  await eventually(async () => feed.received.length === 3, "the changes");
  expect(feed.received).toEqual([7, 8, 9]);
});

it("opens a feed whose first read of the change log answers after the read timeout (a busy api), and delivers to it", async () => {
  const proxy = await startFaultProxy(targetOf(TEST_REDIS_URL, 6379));
  // As the api's reader: no offline queue, one retry, a read timeout.
  const reader = new Redis(proxy.urlFor(TEST_REDIS_URL), { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 100 });
  try {
    await eventually(async () => reader.status === "ready", "the reader to connect");
    const feeds = new ChangeFeeds({ subscriber: connect(), reader, keys, log: silentLogger() });
    const p = projector("slow");
    await p.batch([{ topic: "t", n: 1 }]);
    proxy.stall();
    const opening = follow(feeds, "slow", "t", null);
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the timeout: the first read has failed
    proxy.restore();
    const feed = await opening;
    await p.batch([{ topic: "t", n: 2 }]);
    await eventually(async () => feed.received.at(-1) === 2, "the change after it opened");
    expect(feed.received).toEqual([2]);
    expect(feed.failures).toEqual([]);
    await feed.stop();
  } finally {
    reader.disconnect();
    await proxy.close();
  }
});
