import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePorts } from "./freePort";
import { onRedisNode } from "./redisAdmin";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 15_000;

/**
 * A real replicated Redis: a primary and one replica (`replicaof`), two
 * redis-server child processes on free ports, nothing persisted. Faults are
 * real: `pauseReplica` SIGSTOPs the replica so that writes stay on the
 * primary only, `killPrimary` SIGKILLs it, `promoteReplica` runs REPLICAOF NO
 * ONE as a failover (Sentinel, an operator) would.
 */
export class RedisReplicaPair {
  private readonly killOnExit = () => this.children.forEach((c) => c.kill("SIGKILL"));

  private constructor(
    readonly primaryPort: number,
    readonly replicaPort: number,
    private readonly children: ChildProcess[],
    private readonly dir: string,
  ) {
    process.once("exit", this.killOnExit);
  }

  static async start(): Promise<RedisReplicaPair> {
    const [primaryPort, replicaPort] = await freePorts(2);
    // Its own folder: a full resync writes an RDB file even with saving off.
    const dir = mkdtempSync(join(tmpdir(), "eventline-redis-pair-"));
    const common = ["--bind", HOST, "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir];
    const primary = spawn("redis-server", ["--port", String(primaryPort), ...common], { stdio: "ignore" });
    const replica = spawn("redis-server", ["--port", String(replicaPort), "--replicaof", HOST, String(primaryPort), ...common], { stdio: "ignore" });
    const pair = new RedisReplicaPair(primaryPort!, replicaPort!, [primary, replica], dir);
    try {
      await pair.untilInSync();
    } catch (error) {
      await pair.stop();
      throw error;
    }
    return pair;
  }

  get primaryUrl(): string {
    return `redis://${HOST}:${this.primaryPort}`;
  }

  get replicaUrl(): string {
    return `redis://${HOST}:${this.replicaPort}`;
  }

  /** Resolves once the replica is connected and has every write of the primary. */
  async untilInSync(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const synced = await this.onPrimary(async (r) => {
        const info = await r.info("replication");
        const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
        const replica = /slave0:.*state=online,offset=(\d+)/.exec(info)?.[1];
        return offset !== undefined && replica !== undefined && offset === replica;
      }).catch(() => false);
      if (synced) return;
      if (Date.now() > deadline) throw new Error(`the replica on ${this.replicaPort} did not catch up within ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Freezes the replica and cuts its link: what the primary takes from now on
   * is on the primary only. (SIGSTOP alone is not enough: the kernel still
   * buffers what the primary sends, and the replica applies it once resumed.)
   */
  async pauseReplica(): Promise<void> {
    this.children[1]!.kill("SIGSTOP");
    await this.onPrimary((r) => r.call("CLIENT", "KILL", "TYPE", "replica"));
  }

  resumeReplica(): void {
    this.children[1]!.kill("SIGCONT");
  }

  async killPrimary(): Promise<void> {
    await this.signal(this.children[0]!, "SIGKILL");
  }

  /** The replica stops following the dead primary and takes writes: the failover. */
  async promoteReplica(): Promise<void> {
    this.resumeReplica();
    const replica = new Redis(this.replicaUrl, { maxRetriesPerRequest: 1 });
    try {
      await replica.call("REPLICAOF", "NO", "ONE");
      for (const deadline = Date.now() + READY_TIMEOUT_MS; /role:master/.exec(await replica.info("replication")) === null; ) {
        if (Date.now() > deadline) throw new Error("the replica was not promoted");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      replica.disconnect();
    }
  }

  async stop(): Promise<void> {
    process.off("exit", this.killOnExit);
    this.resumeReplica();
    await Promise.all(this.children.map((c) => this.signal(c, "SIGKILL")));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private onPrimary<T>(use: (r: Redis) => Promise<T>): Promise<T> {
    return onRedisNode(this.primaryPort, use);
  }

  private async signal(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }
}
