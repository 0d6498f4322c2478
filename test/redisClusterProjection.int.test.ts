import { commandExecutor } from "../src/platform/bus/commandExecutor";
import { CommandWorker } from "../src/platform/bus/commandWorker";
import { QueueCommandBus } from "../src/platform/bus/queueCommandBus";
import { createRedis, isCluster, type RedisClient, type RedisTarget } from "../src/platform/core/redis";
import { scanKeys } from "../src/platform/core/redisScan";
import type { RecordedEvent } from "../src/platform/eventstore/types";
import { silentLogger } from "../src/platform/observability/logger";
import { ActiveGenerations } from "../src/platform/projection/activeGenerations";
import { CheckpointWaiter } from "../src/platform/projection/checkpointWaiter";
import { ReadModelKeys } from "../src/platform/projection/keys";
import { Projector } from "../src/platform/projection/projector";
import { indexMember, ReadModelStore } from "../src/platform/projection/readModelStore";
import type { DocumentProjection } from "../src/platform/projection/types";
import { ChangeFeeds, FeedFailure, type FeedItem } from "../src/platform/subscriptions/feeds";
import { RedisCluster } from "./support/redisCluster";
import { eventually } from "./support/system";
import { createTestDatabase, deleteKeys, testPrefix, TEST_REDIS_URL, type TestDatabase } from "./support/testEnv";

/**
 * The same scenario on a single Redis and on a real Redis Cluster (3 masters,
 * 3 replicas): commands through a BullMQ queue, a projector, a subscription
 * feed, a rebuild and document queries. The cluster must answer exactly as
 * the single Redis does.
 */
interface Tally {
  counter: string;
  sum: number;
  adds: number;
}

const tallies: DocumentProjection<Tally> = {
  name: "tallies",
  eventTypes: ["Added"],
  documentIds: (e) => [e.streamId.replace(/^counter-/, "")],
  evolve: (doc, e, id) => ({ counter: id, sum: (doc?.sum ?? 0) + numberOf(e), adds: (doc?.adds ?? 0) + 1 }),
  indexes: (doc) => [{ index: "byCounter", member: indexMember(doc.counter, doc.counter) }],
  topics: (id) => [`tally:${id}`, "tallies"],
};

function numberOf(event: RecordedEvent): number {
  const data = event.data;
  return typeof data === "object" && data !== null && "n" in data && typeof data.n === "number" ? data.n : 0;
}

interface AddCommand {
  type: "Add";
  counter: string;
  n: number;
}

function parseAdd(command: unknown): AddCommand {
  if (typeof command === "object" && command !== null && "counter" in command && "n" in command) {
    const { counter, n } = command;
    if (typeof counter === "string" && typeof n === "number") return { type: "Add", counter, n };
  }
  throw new Error(`not an Add command: ${JSON.stringify(command)}`);
}

const COUNTERS = ["a", "b", "c", "d", "e"];
const COMMANDS = 20;
const SERVICE = "tally";

interface Outcome {
  commands: Array<{ duplicate: boolean; eventTypes: string[] }>;
  resent: boolean;
  feed: Array<{ id: string; eventType: string; streamVersion: number; sum: number | null }>;
  docs: Record<string, Tally | null>;
  page: { ids: string[]; hasNextPage: boolean; next: string[] };
  rebuilt: { generation: number; docs: Record<string, Tally | null> };
  checkpointReached: boolean;
  keysOutsideTags: string[];
}

let cluster: RedisCluster;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 120_000);

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  await cluster?.stop();
});

/** Runs the whole scenario against `target` on a database of its own; everything it opened is closed. */
async function scenario(target: RedisTarget): Promise<Outcome> {
  const db = await createTestDatabase();
  databases.push(db);
  const log = silentLogger();
  const keys = new ReadModelKeys(testPrefix());
  const opened: RedisClient[] = [];
  const connect = (options: { subscriber?: boolean } = {}) => {
    const connection = createRedis(target, options);
    connection.on("error", () => undefined);
    opened.push(connection);
    return connection;
  };
  const projector = new Projector({ store: db.store, redisUrl: target, keys, projections: [tallies], log }, { catchUpEveryMs: 100, batchSize: 4 });
  const execute = commandExecutor(
    { store: db.store, handlerOptions: {} },
    {
      decider: {
        initialState: null,
        decide: (command: AddCommand) => [{ type: "Added", data: { n: command.n } }],
        evolve: (state: null) => state,
      },
      parse: parseAdd,
      streamOf: (command) => `counter-${command.counter}`,
    },
  );
  const worker = new CommandWorker(SERVICE, execute, connect(), keys.prefix, log, { reclaimWithinMs: 1000 });
  const bus = new QueueCommandBus(connect(), target, keys.prefix, { timeoutMs: 15_000, attempts: 3 });
  const reader = connect();
  const subscriber = connect({ subscriber: true });
  const generations = new ActiveGenerations(reader, keys);
  const readModels = new ReadModelStore(reader, keys, generations);
  const feeds = new ChangeFeeds({ subscriber, reader, keys, log });
  const waiter = new CheckpointWaiter(subscriber, keys, readModels);
  let feed: AsyncIterableIterator<FeedItem> | null = null;
  try {
    await projector.start();
    await eventually(async () => reader.status === "ready" && subscriber.status === "ready", "connections ready");
    await generations.listen(subscriber);
    feed = await feeds.open({ projection: tallies.name, topic: "tallies", after: null });
    const received: Outcome["feed"] = [];
    const draining = (async () => {
      for (;;) {
        const item = await feed.next();
        if (item.done) return;
        if (item.value instanceof FeedFailure) throw item.value.error;
        const { document } = item.value;
        const sum = typeof document === "object" && document !== null && "sum" in document && typeof document.sum === "number" ? document.sum : null;
        received.push({ id: item.value.id, eventType: item.value.eventType, streamVersion: item.value.streamVersion, sum });
      }
    })();

    const commands: Outcome["commands"] = [];
    let last = null;
    for (let i = 0; i < COMMANDS; i++) {
      const outcome = await bus.send(SERVICE, { type: "Add", counter: COUNTERS[i % COUNTERS.length], n: i + 1 }, { commandId: `add-${i}`, actor: "test" });
      commands.push({ duplicate: outcome.duplicate, eventTypes: outcome.eventTypes });
      last = outcome.position ?? last;
    }
    const resent = (await bus.send(SERVICE, { type: "Add", counter: "a", n: 1 }, { commandId: "add-0", actor: "test" })).duplicate;

    // Read-your-writes through the checkpoint channel (SSUBSCRIBE on the cluster).
    const checkpointReached = await waiter.waitFor(tallies.name, last!, 20_000).then(() => true);
    await eventually(async () => received.length === COMMANDS * 1, "every change on the feed");

    const docs = Object.fromEntries(await Promise.all(COUNTERS.map(async (c) => [c, await readModels.get<Tally>(tallies.name, c)] as const)));
    const first = await readModels.page<Tally>(tallies.name, "byCounter", { first: 3 });
    const rest = await readModels.page<Tally>(tallies.name, "byCounter", { first: 3, after: first.endCursor });

    // A blue/green rebuild: the switch and the lock scripts run in the projection's one slot.
    const rebuild = await projector.startRebuild(tallies.name, "test");
    await eventually(async () => (await reader.get(keys.activeGeneration(tallies.name))) === String(rebuild.generation), "the switch", 30_000);
    await eventually(async () => (await reader.exists(keys.rebuildLock(tallies.name))) === 0, "the rebuild to finish", 30_000);
    const rebuiltDocs = Object.fromEntries(await Promise.all(COUNTERS.map(async (c) => [c, await readModels.get<Tally>(tallies.name, c)] as const)));

    // Every key lives under a projection's or a queue's hash tag; on a cluster, under the tag's own slot.
    const keysOutsideTags: string[] = [];
    await scanKeys(reader, `${keys.prefix}:*`, async (found) => {
      for (const key of found) if (!key.startsWith(`${keys.prefix}:{tallies}:`) && !key.startsWith(`${keys.prefix}:{q:`)) keysOutsideTags.push(key);
    });

    await feed.return?.();
    await draining;
    return {
      commands,
      resent,
      feed: received,
      docs,
      page: { ids: first.nodes.map((n) => n.node.counter), hasNextPage: first.hasNextPage, next: rest.nodes.map((n) => n.node.counter) },
      rebuilt: { generation: rebuild.generation, docs: rebuiltDocs },
      checkpointReached,
      keysOutsideTags,
    };
  } finally {
    await feed?.return?.();
    await projector.stop();
    await worker.close();
    await bus.close();
    await deleteKeys(reader, keys.prefix).catch(() => undefined);
    await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

it("runs commands, projection, feeds, a rebuild and queries on a Redis Cluster exactly as on a single Redis", async () => {
  const single = await scenario(TEST_REDIS_URL);
  const onCluster = await scenario({ cluster: cluster.startupNodes });

  // What the scenario must show on its own, so that "equal" cannot mean "equally empty".
  expect(single.commands.every((c) => !c.duplicate && c.eventTypes.join() === "Added")).toBe(true);
  expect(single.resent).toBe(true);
  expect(single.checkpointReached).toBe(true);
  expect(single.docs.a).toEqual({ counter: "a", sum: 1 + 6 + 11 + 16, adds: 4 });
  expect(single.page).toEqual({ ids: ["a", "b", "c"], hasNextPage: true, next: ["d", "e"] });
  expect(single.feed).toHaveLength(COMMANDS);
  expect(single.feed.at(-1)).toEqual({ id: "e", eventType: "Added", streamVersion: 4, sum: 5 + 10 + 15 + 20 });
  expect(single.rebuilt).toEqual({ generation: 2, docs: single.docs });
  expect(single.keysOutsideTags).toEqual([]);

  expect(onCluster).toEqual(single);
}, 180_000);

it("spreads the queues' and projections' tags over more than one master", async () => {
  const keys = new ReadModelKeys("eventline");
  const tags = ["{q:commands.ordering}", "{q:commands.inventory}", "{q:commands.payments}", "{q:projector}", "{q:saga}"];
  const projections = ["products", "orders", "accounts", "sagas", "sales-dashboard"].map((p) => keys.activeGeneration(p));
  const owners = new Set<number>();
  for (const key of [...tags.map((t) => `eventline:${t}:x`), ...projections]) owners.add((await cluster.ownerOf(await cluster.slotOf(key))).port);
  expect(owners.size).toBeGreaterThan(1);
  const client = createRedis({ cluster: cluster.startupNodes });
  try {
    expect(isCluster(client)).toBe(true);
    expect(await client.ping()).toBe("PONG");
  } finally {
    client.disconnect();
  }
});
