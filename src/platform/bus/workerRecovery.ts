import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Worker, WorkerOptions } from "bullmq";
import { clientList, namedConnection, reachEveryMaster, type RedisClient } from "../core/redis";
import { errorMessage } from "../core/errors";
import { Periodic } from "../core/periodic";
import type { Logger } from "../observability/logger";

/** Default of RECLAIM_WITHIN_MS: in-flight work of a dead process resumes this long after its successor is ready. */
export const DEFAULT_RECLAIM_WITHIN_MS = 1000;

/** Names of the presence connections: a worker is alive exactly as long as Redis has one of them open. */
const PRESENCE = "eventline-worker:";

/**
 * Takes back the jobs of BullMQ workers whose process is gone, within
 * `withinMs`, instead of after BullMQ's lock (30 s) and two stall checks.
 *
 * Each worker is named (BullMQ stores the name as the job's `pb`,
 * processedBy) and keeps a connection open under that name. A SIGKILLed
 * process's sockets are closed by the kernel, so Redis drops its connections
 * at once. An active job whose `pb` names a worker with no connection (seen
 * twice, `confirmMs` apart, so that a reconnecting client is not mistaken for
 * a dead one) loses its lock and goes back to wait through BullMQ's own
 * stalled-job path. A live process keeps its connection, even frozen
 * (SIGSTOP) or cut off from Redis by a partition that Redis has not noticed,
 * so its jobs are never taken while it could still run them: a job never runs
 * twice at once. Locks stay long (30 s, renewed): a slow event loop is no
 * reason to run a job again.
 *
 * After a Redis restart every client reconnects at its own pace, so nothing
 * is reclaimed until Redis has been up for `restartGraceMs`; BullMQ's lock
 * expiry remains the fallback. Needs CLIENT LIST (and LPOS, Redis 6.0.6+);
 * where CLIENT is disabled, jobs are freed by lock expiry as before.
 */
export class WorkerRecovery {
  readonly name = `${hostname().replace(/[^A-Za-z0-9_.-]/g, "_")}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private presence: RedisClient | null = null;
  private registered: Promise<void> | null = null;
  private passes: Periodic | null = null;
  private stopped = false;
  private readonly confirmMs: number;
  private readonly restartGraceMs: number;

  constructor(
    private readonly connection: RedisClient,
    private readonly withinMs: number,
    private readonly log: Logger,
  ) {
    this.confirmMs = Math.max(50, Math.floor(withinMs / 4));
    this.restartGraceMs = 5000;
  }

  /** Worker options that make BullMQ's own stall check frequent and name the worker for `pb`. */
  workerOptions(): Pick<WorkerOptions, "name" | "stalledInterval" | "maxStalledCount"> {
    return {
      name: this.name,
      // Frees active jobs whose lock ran out (a dead worker of an older version, a reclaimed job) in ≤ 2 passes.
      stalledInterval: Math.max(100, Math.floor(this.withinMs / 2)),
      // Kills are not failures of the job: allow several before BullMQ gives up on it (a job that kills its process).
      maxStalledCount: 5,
    };
  }

  /**
   * Opens the presence connection. Call it, and let it resolve, before the
   * worker takes its first job: a job whose `pb` has no connection behind it
   * yet would look like a dead worker's to the others.
   */
  register(): Promise<void> {
    this.registered ??= (async () => {
      this.presence = await namedConnection(this.connection, `${PRESENCE}${this.name}`);
    })();
    return this.registered;
  }

  /** Reclaims at once, then every `withinMs / 2`, jobs of `worker`'s queue whose worker is gone. */
  async start(worker: Worker): Promise<void> {
    await this.register();
    if (this.stopped) return;
    const pass = () => {
      // On a cluster, a master promoted since the last pass must see this worker's presence too.
      if (this.presence) void reachEveryMaster(this.presence).catch(() => undefined);
      return this.reclaim(worker);
    };
    this.passes = new Periodic(pass, this.passEveryMs, (error) => this.log.warn(`reclaim on ${worker.name}: ${errorMessage(error)}`));
    this.passes.start({ now: true });
  }

  /** How often the passes look for workers that are gone: twice within `withinMs`. */
  get passEveryMs(): number {
    return Math.max(100, Math.floor(this.withinMs / 2));
  }

  /** Stop after the worker closed: its presence must outlive its last job. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.passes?.stop();
    await this.presence?.quit().catch(() => this.presence?.disconnect());
  }

  /** One pass; returns the ids of the jobs it took back. */
  async reclaim(worker: Worker): Promise<string[]> {
    const active = await this.connection.lrange(worker.keys.active!, 0, -1);
    if (active.length === 0) return [];
    const owners = await this.owners(worker, active);
    const dead = await this.gone(new Set(owners.values()));
    if (dead.size === 0) return [];
    const taken: string[] = [];
    for (const [jobId, owner] of owners) {
      if (!dead.has(owner)) continue;
      const key = worker.toKey(jobId);
      const reclaimed = await this.connection.eval(RECLAIM, 4, key, `${key}:lock`, worker.keys.active!, worker.keys.stalled!, owner, jobId);
      if (reclaimed === 1) taken.push(jobId);
    }
    if (taken.length > 0) {
      // BullMQ's next stall pass (every withinMs / 2) moves them to wait. Not forced now: a pass ran at
      // start-up, and passes are throttled to one per interval across all workers of the queue anyway.
      this.log.info({ queue: worker.name, jobs: taken }, `${worker.name}: took back ${taken.length} job(s) of a worker that is gone (${[...dead].join(", ")})`);
    }
    return taken;
  }

  private async owners(worker: Worker, active: readonly string[]): Promise<Map<string, string>> {
    const pipeline = this.connection.pipeline();
    for (const id of active) pipeline.hget(worker.toKey(id), "pb");
    const results = (await pipeline.exec()) ?? [];
    const owners = new Map<string, string>();
    active.forEach((id, i) => {
      const owner = results[i]?.[1];
      if (typeof owner === "string" && owner !== this.name) owners.set(id, owner);
    });
    return owners;
  }

  /**
   * Those of `names` (other workers') whose process is gone: no presence connection, seen twice `confirmMs`
   * apart. None while Redis has been up less than `restartGraceMs` (its clients are still reconnecting).
   */
  async gone(names: ReadonlySet<string>): Promise<Set<string>> {
    if (names.size === 0 || (await this.redisUptimeMs()) < this.restartGraceMs) return new Set();
    const dead = await this.deadAmong(names);
    if (dead.size === 0) return dead;
    await new Promise((resolve) => setTimeout(resolve, this.confirmMs));
    return this.deadAmong(dead);
  }

  /** Those of `names` that have no connection open to Redis. */
  private async deadAmong(names: ReadonlySet<string>): Promise<Set<string>> {
    if (names.size === 0) return new Set();
    const live = await liveWorkers(this.connection);
    return new Set([...names].filter((n) => !live.has(n)));
  }

  private async redisUptimeMs(): Promise<number> {
    const info = await this.connection.info("server");
    const seconds = /uptime_in_seconds:(\d+)/.exec(info)?.[1];
    return seconds === undefined ? Number.POSITIVE_INFINITY : Number(seconds) * 1000;
  }
}

/** Names of the workers that have a presence connection open to this Redis (CLIENT LIST). */
export async function liveWorkers(connection: RedisClient): Promise<Set<string>> {
  const list = await clientList(connection);
  return new Set([...list.matchAll(new RegExp(`\\bname=${PRESENCE}(\\S+)`, "g"))].map((m) => m[1]!));
}

/**
 * One job, atomically: still active and still processed by the dead worker
 * (not fetched again meanwhile by a live one)? Then drop its lock and mark it
 * stalled, so BullMQ's next stall pass moves it to wait, counting the stall.
 */
const RECLAIM = `
if redis.call("HGET", KEYS[1], "pb") ~= ARGV[1] then return 0 end
if not redis.call("LPOS", KEYS[3], ARGV[2]) then return 0 end
redis.call("DEL", KEYS[2])
redis.call("SADD", KEYS[4], ARGV[2])
return 1
`;
