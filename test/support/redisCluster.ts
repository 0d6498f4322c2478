import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, type ClusterOptions } from "ioredis";
import { freePorts } from "./freePort";
import { onRedisNode } from "./redisAdmin";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export interface RedisClusterOptions {
  /** Masters, each with one replica (default 3, so 6 nodes). */
  masters?: number;
  /** cluster-node-timeout: how long a master must be unreachable before its replica takes over (default 2000 ms). */
  nodeTimeoutMs?: number;
}

/** One line of CLUSTER NODES, as the node that answered sees the cluster. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: "master" | "replica";
  /** The master a replica follows; null for a master. */
  masterId: string | null;
  /** Flagged `fail` (or `fail?`) by the node that answered. */
  failing: boolean;
  /** Inclusive slot ranges a master serves (empty for replicas). */
  slots: Array<[number, number]>;
}

interface NodeProcess {
  port: number;
  busPort: number;
  dir: string;
  child: ChildProcess | null;
}

/**
 * A real Redis Cluster (N masters, one replica each) of redis-server child
 * processes on free ports, its files in a temporary folder. Faults are real:
 * a SIGKILLed master is failed over by its replica, a slot is moved with
 * SETSLOT/MIGRATE as `redis-cli --cluster reshard` would. Nothing persists:
 * a restarted node comes back empty and resyncs as a replica.
 */
export class RedisCluster {
  private readonly killOnExit = () => this.nodes.forEach((n) => n.child?.kill("SIGKILL"));

  private constructor(
    readonly dir: string,
    private readonly nodes: NodeProcess[],
    private readonly nodeTimeoutMs: number,
  ) {
    process.once("exit", this.killOnExit);
  }

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const count = masters * 2;
    const dir = mkdtempSync(join(tmpdir(), "eventline-redis-cluster-"));
    // Redis 7's cluster-port: the bus port is free too (the default, port + 10000, may be taken or past 65535).
    const ports = await freePorts(count * 2);
    const nodes = Array.from({ length: count }, (_, i) => ({ port: ports[2 * i]!, busPort: ports[2 * i + 1]!, dir: join(dir, `node-${i}`), child: null }));
    const cluster = new RedisCluster(dir, nodes, options.nodeTimeoutMs ?? 2000);
    try {
      for (const node of nodes) mkdirSync(node.dir);
      await Promise.all(nodes.map((node) => cluster.launch(node)));
      await promisify(execFile)(
        "redis-cli",
        ["--cluster", "create", ...nodes.map((n) => `${HOST}:${n.port}`), "--cluster-replicas", "1", "--cluster-yes"],
        { timeout: READY_TIMEOUT_MS },
      );
      await cluster.waitHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Every node that runs now, as ioredis `Cluster` start-up nodes. */
  get startupNodes(): Array<{ host: string; port: number }> {
    return this.live().map((n) => ({ host: HOST, port: n.port }));
  }

  /** The value for REDIS_CLUSTER_NODES: `host:port,host:port,…` of the nodes that run now. */
  get nodesSetting(): string {
    return this.startupNodes.map((n) => `${n.host}:${n.port}`).join(",");
  }

  /** An ioredis Cluster client on it; the caller quits it. */
  client(options: ClusterOptions = {}): Cluster {
    // A loaded host may take over ioredis's default 1 s to answer CLUSTER SLOTS.
    return new Cluster(this.startupNodes, { slotsRefreshTimeout: 5000, ...options, redisOptions: { maxRetriesPerRequest: null, ...options.redisOptions } });
  }

  /** The cluster as a running node sees it. */
  async topology(): Promise<ClusterNodeInfo[]> {
    const [node] = this.live();
    if (!node) throw new Error("no Redis Cluster node is running");
    return parseClusterNodes(await onRedisNode(node.port, (r) => r.call("CLUSTER", "NODES")));
  }

  /** The master serving `slot` now. */
  async ownerOf(slot: number): Promise<ClusterNodeInfo> {
    const owner = (await this.topology()).find((n) => n.role === "master" && !n.failing && n.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!owner) throw new Error(`no live master serves slot ${slot}`);
    return owner;
  }

  /** The slot of `key` (its `{hash tag}` if it has one). */
  async slotOf(key: string): Promise<number> {
    const [node] = this.live();
    if (!node) throw new Error("no Redis Cluster node is running");
    return Number(await onRedisNode(node.port, (r) => r.call("CLUSTER", "KEYSLOT", key)));
  }

  /**
   * SIGKILLs a master (the one on `port`, or the first that serves slots) and
   * waits until one of its replicas was promoted and every running node
   * agrees and reports `cluster_state:ok`.
   */
  async killMaster(port?: number): Promise<{ killed: number; promoted: number }> {
    const topology = await this.topology();
    const master = topology.find((n) => n.role === "master" && !n.failing && n.slots.length > 0 && (port === undefined || n.port === port));
    if (!master) throw new Error(port === undefined ? "no live master serves slots" : `port ${port} is not a live master`);
    const replicas = new Set(topology.filter((n) => n.masterId === master.id && !n.failing).map((n) => n.id));
    if (replicas.size === 0) throw new Error(`master ${master.port} has no live replica to promote`);
    await this.killNode(master.port, "SIGKILL");
    const deadline = Date.now() + this.nodeTimeoutMs * 5 + READY_TIMEOUT_MS;
    for (;;) {
      const promoted = (await this.topology().catch(() => [])).find((n) => replicas.has(n.id) && n.role === "master" && n.slots.length > 0);
      if (promoted) {
        await this.waitHealthy();
        return { killed: master.port, promoted: promoted.port };
      }
      if (Date.now() > deadline) throw new Error(`no replica of ${master.port} was promoted`);
      await sleep(POLL_MS);
    }
  }

  /** Starts a killed node again on its port and folder; it rejoins as a replica of whoever took its slots. */
  async restartNode(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`port ${port} is not a node of this cluster`);
    if (node.child) throw new Error(`node ${port} is running`);
    await this.launch(node);
    await this.waitHealthy();
  }

  /**
   * Moves `slot` (with its keys) to the master on `toPort`, or to another
   * master, the way a resharding does: IMPORTING on the target, MIGRATING on
   * the source, MIGRATE of its keys, then SETSLOT NODE everywhere.
   */
  async moveSlot(slot: number, toPort?: number): Promise<{ from: number; to: number }> {
    const topology = await this.topology();
    const source = await this.ownerOf(slot);
    const masters = topology.filter((n) => n.role === "master" && !n.failing);
    const target = masters.find((n) => (toPort === undefined ? n.id !== source.id : n.port === toPort));
    if (!target) throw new Error(`no live master ${toPort ?? "other than the slot's owner"} to move slot ${slot} to`);
    if (target.id === source.id) return { from: source.port, to: target.port };
    await onRedisNode(target.port, (r) => r.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.id));
    await onRedisNode(source.port, (r) => r.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target.id));
    await onRedisNode(source.port, async (r) => {
      for (;;) {
        const keys = await r.call("CLUSTER", "GETKEYSINSLOT", slot, 100);
        if (!Array.isArray(keys) || keys.length === 0) return;
        await r.call("MIGRATE", HOST, target.port, "", 0, 5000, "REPLACE", "KEYS", ...keys.map(String));
      }
    });
    // The target first, then the source, then the others, as the Redis manual orders it.
    for (const node of [target, source, ...masters.filter((n) => n.id !== target.id && n.id !== source.id)]) {
      await onRedisNode(node.port, (r) => r.call("CLUSTER", "SETSLOT", slot, "NODE", target.id));
    }
    await this.waitHealthy();
    return { from: source.port, to: target.port };
  }

  /**
   * Until every running node reports `cluster_state:ok`, all of them map the
   * slots to the same masters, and every running replica's link is up.
   */
  async waitHealthy(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let problem = "";
    for (;;) {
      problem = await this.healthProblem().catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
      if (problem === "") return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms: ${problem}`);
      await sleep(POLL_MS);
    }
  }

  /** Kills every node (their data is scratch) and removes the folder. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.killNode(n.port, "SIGKILL")));
    process.removeListener("exit", this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private live(): NodeProcess[] {
    return this.nodes.filter((n) => n.child !== null);
  }

  private async healthProblem(): Promise<string> {
    const views: string[] = [];
    for (const node of this.live()) {
      const info = String(await onRedisNode(node.port, (r) => r.call("CLUSTER", "INFO")));
      if (!/cluster_state:ok/.test(info)) return `node ${node.port}: ${/cluster_state:\w+/.exec(info)?.[0] ?? "no cluster_state"}`;
      const topology = parseClusterNodes(await onRedisNode(node.port, (r) => r.call("CLUSTER", "NODES")));
      const me = topology.find((n) => n.port === node.port);
      if (me?.role === "replica") {
        const replication = String(await onRedisNode(node.port, (r) => r.call("INFO", "replication")));
        if (!/master_link_status:up/.test(replication)) return `replica ${node.port}: link to its master is not up`;
      }
      views.push(
        topology
          .filter((n) => n.role === "master" && n.slots.length > 0)
          .map((n) => `${n.port}${n.failing ? "(failing)" : ""}=${n.slots.map(([a, b]) => `${a}-${b}`).join(",")}`)
          .sort()
          .join(" "),
      );
    }
    if (views.some((v) => v.includes("(failing)"))) return `a failing master still serves slots: ${views.find((v) => v.includes("(failing)"))}`;
    if (new Set(views).size > 1) return `nodes disagree on slot owners: ${[...new Set(views)].join(" | ")}`;
    return "";
  }

  private async launch(node: NodeProcess): Promise<void> {
    const args = [
      "--port", String(node.port), "--bind", HOST,
      "--cluster-enabled", "yes", "--cluster-port", String(node.busPort),
      "--cluster-config-file", join(node.dir, "nodes.conf"), "--dir", node.dir,
      "--cluster-node-timeout", String(this.nodeTimeoutMs),
      // A replica may always take over, however long it was cut off: tests kill masters on purpose.
      "--cluster-replica-validity-factor", "0",
      "--save", "", "--appendonly", "no", "--daemonize", "no",
    ];
    const logFile = join(node.dir, "redis.log");
    const log = openSync(logFile, "a");
    const child = spawn("redis-server", args, { stdio: ["ignore", log, log] });
    closeSync(log);
    node.child = child;
    let failure: Error | null = null;
    child.once("error", (error) => (failure = new Error(`redis-server could not be started (is it on PATH?): ${error.message}`)));
    child.once("exit", (code, signal) => {
      failure ??= new Error(`redis-server on ${node.port} exited (${signal ?? code}): ${tail(logFile)}`);
      if (node.child === child) node.child = null;
    });
    for (const deadline = Date.now() + READY_TIMEOUT_MS; ; await sleep(POLL_MS)) {
      if (failure) throw failure;
      if ((await onRedisNode(node.port, (r) => r.ping()).catch(() => null)) === "PONG") return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${node.port} did not answer: ${tail(logFile)}`);
    }
  }

  private async killNode(port: number, signal: NodeJS.Signals): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    const child = node?.child;
    if (!node || !child) return;
    node.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }
}

/** Parses CLUSTER NODES: `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
export function parseClusterNodes(reply: unknown): ClusterNodeInfo[] {
  if (typeof reply !== "string") throw new Error(`CLUSTER NODES answered ${typeof reply}, not text`);
  return reply
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line): ClusterNodeInfo => {
      const [id = "", address = "", flags = "", master = "-", , , , , ...slots] = line.trim().split(" ");
      const flagSet = new Set(flags.split(","));
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1] ?? NaN),
        role: flagSet.has("master") ? "master" : "replica",
        masterId: master === "-" ? null : master,
        failing: flagSet.has("fail") || flagSet.has("fail?"),
        // Entries like [5461->-id] (a slot being migrated) are not served ranges.
        slots: slots.filter((s) => !s.startsWith("[")).map((s): [number, number] => {
          const [from, to = from] = s.split("-").map(Number);
          return [from!, to!];
        }),
      };
    });
}


function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-8).join("\n");
  } catch {
    return "(no log)";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
