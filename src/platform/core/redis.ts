import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/** A connection to a single Redis or to a Redis Cluster: what every part that talks to Redis takes. */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is: the URL of a single server, or the start-up nodes of a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = string | { cluster: readonly RedisNode[] };

export interface ConnectionOptions extends RedisOptions {
  /**
   * For a connection that subscribes: on a cluster it opens one subscriber
   * per master, so SSUBSCRIBE reaches the master of each channel's slot and
   * follows it when the slot moves. Ignored on a single Redis.
   */
  subscriber?: boolean;
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * BullMQ needs `maxRetriesPerRequest: null` on connections used by workers,
 * so that a Redis outage blocks them instead of failing every command.
 * On a cluster the same options hold for the connection to every node.
 */
export function createRedis(target: string, options?: ConnectionOptions): Redis;
export function createRedis(target: RedisTarget, options?: ConnectionOptions): RedisClient;
export function createRedis(target: RedisTarget, options: ConnectionOptions = {}): RedisClient {
  const { subscriber = false, ...redisOptions } = options;
  const settings: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...redisOptions };
  if (typeof target === "string") return new Redis(target, settings);
  const clusterOptions: ClusterOptions = {
    redisOptions: settings,
    enableReadyCheck: true,
    lazyConnect: settings.lazyConnect ?? false,
    // Without its offline queue a cluster client fails a command at once while it has no slot map.
    enableOfflineQueue: settings.enableOfflineQueue ?? true,
    shardedSubscribers: subscriber,
    // ioredis gives a node 1 s to answer CLUSTER SLOTS; a loaded host (or a node busy with a failover)
    // may take longer, and a client that never got its slot map fails every command (ClusterAllFailedError).
    slotsRefreshTimeout: 5000,
  };
  return new Cluster([...target.cluster], clusterOptions);
}

/** `host:port,host:port,…` as given in REDIS_CLUSTER_NODES, parsed; null when unset or empty. */
export function parseClusterNodes(value: string | undefined): RedisNode[] | null {
  const entries = (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (entries.length === 0) return null;
  return entries.map((entry) => {
    const match = /^(.+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw new Error(`'${entry}' is not host:port`);
    return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
  });
}

/**
 * BullMQ's prefix for one queue. Every key of a queue must share one hash
 * tag (its scripts take many keys), and each queue gets its own tag so the
 * queues spread over a cluster's masters: keys are `<prefix>:{q:<queue>}:<queue>:…`.
 */
export function bullPrefix(prefix: string, queue: string): string {
  return `${prefix}:{q:${queue}}`;
}

/**
 * For WATCH/MULTI/EXEC: a WATCH lives on one TCP connection, so nothing may be
 * queued while disconnected or resent after a reconnect. Otherwise a batch
 * computed before Redis restarted (or lost its data) would be written blindly
 * into the new one, checkpoint included. Such commands fail instead, and the
 * caller starts over from what Redis now holds. Resolves once connected.
 * On a cluster: the cluster client queues nothing while it has no slot map,
 * and commands in flight on a node that drops fail, never resent. ioredis
 * never reconnects a lost node (it fetches the slot map again and opens a new
 * connection) and queues a node's commands only until that node's first
 * connect, so nothing reaches a restarted node on an old WATCH either.
 */
export async function createTransactionalRedis(target: string, readyWithinMs?: number): Promise<Redis>;
export async function createTransactionalRedis(target: RedisTarget, readyWithinMs?: number): Promise<RedisClient>;
export async function createTransactionalRedis(target: RedisTarget, readyWithinMs = 10_000): Promise<RedisClient> {
  // maxRetriesPerRequest 0: commands in flight when the connection drops are rejected at once
  // (without it, ioredis neither resends them nor ever settles their promises).
  const connection = createRedis(target, { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 });
  connection.on("error", () => undefined); // reconnects by itself; commands meanwhile fail and are retried by their callers
  if (!(await untilReady(connection, readyWithinMs))) {
    connection.disconnect();
    throw new Error(`Redis not ready within ${readyWithinMs} ms`);
  }
  return connection;
}

/** Resolves true once `connection` is ready, false after `ms` (it keeps reconnecting on its own). */
export function untilReady(connection: RedisClient, ms: number): Promise<boolean> {
  if (connection.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off("ready", onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    connection.once("ready", onReady);
  });
}

/**
 * A second connection like `client` that names itself `name` (CLIENT SETNAME)
 * on every node it talks to; resolves once it is ready. On a cluster it
 * connects to every master at once, so the name shows in each one's CLIENT LIST.
 */
export async function namedConnection(client: RedisClient, name: string): Promise<RedisClient> {
  if (!isCluster(client)) {
    const connection = client.duplicate({ connectionName: name, lazyConnect: false });
    connection.on("error", () => undefined); // reconnects by itself, under the same name (ioredis sets it on every connect)
    await connection.client("SETNAME", name);
    return connection;
  }
  const connection = client.duplicate([], { redisOptions: { ...client.options.redisOptions, connectionName: name } });
  connection.on("error", () => undefined);
  await connection.ping();
  await Promise.all(connection.nodes("master").map((node) => node.client("SETNAME", name)));
  return connection;
}

/**
 * Makes sure `client` has a connection to every master: a cluster client
 * connects to a node only when a command goes there, so after a failover the
 * promoted master would not see a named connection until then.
 */
export async function reachEveryMaster(client: RedisClient): Promise<void> {
  if (isCluster(client)) await Promise.all(client.nodes("master").map((node) => node.ping()));
}

/** CLIENT LIST of a single Redis, or of every master of a cluster, one listing after the other. */
export async function clientList(client: RedisClient): Promise<string> {
  const nodes: Redis[] = isCluster(client) ? client.nodes("master") : [client];
  const lists = await Promise.all(nodes.map(async (node) => String(await node.client("LIST"))));
  return lists.join("\n");
}
