import { randomUUID } from "node:crypto";
import type { RedisClient } from "../core/redis";
import { pubSubMode, queuePublish } from "../core/redisPubSub";
import { DomainError, ErrorCode } from "../core/errors";
import type { EventStore } from "../eventstore/eventStore";
import { compareLogPositions, formatLogPosition } from "../eventstore/logPosition";
import { removeGenerationsExcept, unlinkMatching } from "./generations";
import { parseGeneration, type ReadModelKeys } from "./keys";
import { ProjectionEventError } from "./parked";
import { parseCheckpoint } from "../processing/redisCheckpointer";
import { ProjectionRunner } from "./projectionRunner";
import type { DocumentProjection } from "./types";

/**
 * Projects the whole log into one generation of a projection, from wherever
 * that generation's checkpoint stands (from the start for a new one), until
 * it has caught up with the log. Used by rebuilds and by from-scratch checks.
 * An event the projection fails on is retried at once until it is parked.
 */
export async function projectGeneration<Doc>(
  redis: RedisClient,
  store: EventStore,
  keys: ReadModelKeys,
  projection: DocumentProjection<Doc>,
  generation: number,
  options: { batchSize?: number; maxEventAttempts?: number; onProgress?: (events: number) => void; shouldStop?: () => void } = {},
): Promise<number> {
  const runner = new ProjectionRunner(redis, store, keys, projection, {
    batchSize: options.batchSize ?? 1000,
    target: { kind: "fixed", generation },
    readAhead: true,
    ...(options.maxEventAttempts ? { maxEventAttempts: options.maxEventAttempts } : {}),
  });
  let total = 0;
  for (;;) {
    options.shouldStop?.();
    const step = await runner.step().catch((error: unknown) => {
      if (error instanceof ProjectionEventError) return null; // counted; the next step retries or parks it
      throw error;
    });
    if (step?.kind === "idle") return total;
    if (step?.kind === "applied") {
      total += step.events;
      options.onProgress?.(total);
    }
  }
}

export class RebuildInProgressError extends DomainError<"REBUILD_IN_PROGRESS"> {
  constructor(projection: string, holder: string | null) {
    super(ErrorCode.REBUILD_IN_PROGRESS, `A rebuild of projection '${projection}' is already running${holder ? ` (${holder})` : ""}; wait for it to finish`, {
      projection,
    });
  }
}

export interface RebuildProgress {
  projection: string;
  generation: number;
  fromGeneration: number;
  phase: "projecting" | "switching" | "cleaning" | "done";
  /** Events read from the log into the new generation so far. */
  applied: number;
  /** Events in the log when the rebuild started (the bar's end; the log may grow meanwhile). */
  total: number;
  startedAt: string;
  by: string;
}

export interface RebuildOptions {
  batchSize: number;
  maxEventAttempts?: number;
  /** The lock expires this long after its holder last renewed it, so a crashed rebuild frees it. */
  lockTtlMs: number;
  by: string;
  onProgress?: (progress: RebuildProgress) => void;
}

export const defaultRebuildLockTtlMs = 30_000;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); redis.call('PEXPIRE', KEYS[2], ARGV[2]); return 1 end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]); return 1 end return 0`;

/**
 * A blue/green rebuild: projects the log into a new generation while the
 * active one keeps serving, switches the `active` pointer once the new one
 * has caught up, then deletes the old generation's keys.
 *
 * - One rebuild per projection at a time: a lock key with an expiry, renewed
 *   while the rebuild runs; a second start fails with REBUILD_IN_PROGRESS.
 * - The switch is a MULTI/EXEC under WATCH on the pointer and both
 *   checkpoints, taken only when the new generation is at or past the old
 *   one: a live batch committed in between aborts it, and it tries again after
 *   catching up. Readers never see a read model go back in the log.
 * - A crash leaves the old generation active. The next rebuild, under the lock,
 *   first removes every generation but the active one.
 */
export class Rebuild<Doc> {
  private lost = false;
  private aborted = false;
  private readonly progress: RebuildProgress;

  private constructor(
    private readonly redis: RedisClient,
    private readonly store: EventStore,
    private readonly keys: ReadModelKeys,
    private readonly projection: DocumentProjection<Doc>,
    private readonly options: RebuildOptions,
    private readonly token: string,
    fromGeneration: number,
  ) {
    this.progress = {
      projection: projection.name,
      generation: fromGeneration + 1,
      fromGeneration,
      phase: "projecting",
      applied: 0,
      total: 0,
      startedAt: new Date().toISOString(),
      by: options.by,
    };
  }

  /** Takes the projection's rebuild lock; throws REBUILD_IN_PROGRESS when another rebuild holds it. `redis` must be dedicated (WATCH). */
  static async start<Doc>(
    redis: RedisClient,
    store: EventStore,
    keys: ReadModelKeys,
    projection: DocumentProjection<Doc>,
    options: RebuildOptions,
  ): Promise<Rebuild<Doc>> {
    const token = randomUUID();
    const lock = keys.rebuildLock(projection.name);
    const taken = await redis.set(lock, JSON.stringify({ token, by: options.by }), "PX", options.lockTtlMs, "NX");
    if (taken !== "OK") {
      const holder = await redis.get(lock);
      throw new RebuildInProgressError(projection.name, holder ? `started by ${(JSON.parse(holder) as { by: string }).by}` : null);
    }
    const from = parseGeneration(await redis.get(keys.activeGeneration(projection.name)));
    return new Rebuild(redis, store, keys, projection, options, JSON.stringify({ token, by: options.by }), from);
  }

  get generation(): number {
    return this.progress.generation;
  }

  get state(): RebuildProgress {
    return { ...this.progress };
  }

  /** Asks a running rebuild to stop at its next batch; the old generation stays active and the new one is removed. */
  abort(): void {
    this.aborted = true;
  }

  async run(): Promise<RebuildProgress> {
    const name = this.projection.name;
    const renewEvery = Math.max(10, Math.floor(this.options.lockTtlMs / 3));
    const heartbeat = setInterval(() => void this.renew(), renewEvery);
    let switched = false;
    try {
      await removeGenerationsExcept(this.redis, this.keys, name, this.progress.fromGeneration);
      this.progress.total = await this.store.countVisibleEvents();
      await this.publish();
      await this.catchUp();
      this.progress.phase = "switching";
      await this.publish();
      while (!(await this.trySwitch())) await this.catchUp();
      switched = true;
      this.progress.phase = "cleaning";
      await this.publish();
      await unlinkMatching(this.redis, this.keys.generation(name, this.progress.fromGeneration).pattern);
      this.progress.phase = "done";
      this.options.onProgress?.(this.state);
      return this.state;
    } finally {
      clearInterval(heartbeat);
      if (!switched) await unlinkMatching(this.redis, this.keys.generation(name, this.progress.generation).pattern).catch(() => undefined);
      await this.redis.eval(RELEASE, 2, this.keys.rebuildLock(name), this.keys.rebuildProgress(name), this.token).catch(() => undefined);
    }
  }

  private async catchUp(): Promise<void> {
    const before = this.progress.applied;
    await projectGeneration(this.redis, this.store, this.keys, this.projection, this.progress.generation, {
      batchSize: this.options.batchSize,
      ...(this.options.maxEventAttempts ? { maxEventAttempts: this.options.maxEventAttempts } : {}),
      shouldStop: () => this.checkStillOurs(),
      onProgress: (events) => {
        this.progress.applied = before + events;
        void this.publish();
      },
    });
  }

  /** Switches the pointer if the new generation is at or past the active one; false when it must catch up first. */
  private async trySwitch(): Promise<boolean> {
    this.checkStillOurs();
    const name = this.projection.name;
    const pointer = this.keys.activeGeneration(name);
    const old = this.keys.generation(name, this.progress.fromGeneration);
    const fresh = this.keys.generation(name, this.progress.generation);
    const lock = this.keys.rebuildLock(name);
    // The lock is watched too: a rebuild that lost it (stalled past its expiry) must not switch.
    await this.redis.watch(pointer, old.checkpoint, fresh.checkpoint, lock);
    const [active, oldCheckpoint, newCheckpoint, holder] = await this.redis.mget(pointer, old.checkpoint, fresh.checkpoint, lock);
    if (holder !== this.token) {
      await this.redis.unwatch();
      this.lost = true;
      this.checkStillOurs();
    }
    if (parseGeneration(active ?? null) !== this.progress.fromGeneration) {
      await this.redis.unwatch();
      throw new Error(`the active generation of '${name}' changed during the rebuild (now ${active ?? "none"})`);
    }
    const reached = parseCheckpoint(newCheckpoint ?? null);
    if (compareLogPositions(reached, parseCheckpoint(oldCheckpoint ?? null)) < 0) {
      await this.redis.unwatch();
      return false;
    }
    const tx = this.redis.multi().set(pointer, String(this.progress.generation));
    queuePublish(tx, pubSubMode(this.redis), this.keys.checkpointChannel(name), `${name} ${this.progress.generation} ${formatLogPosition(reached)}`);
    const result = await tx.exec();
    return result !== null;
  }

  private checkStillOurs(): void {
    if (this.lost) throw new Error(`lost the rebuild lock of '${this.projection.name}' (not renewed in time); the old generation stays active`);
    if (this.aborted) throw new Error(`rebuild of '${this.projection.name}' aborted; the old generation stays active`);
  }

  private async renew(): Promise<void> {
    const kept = await this.redis
      .eval(RENEW, 2, this.keys.rebuildLock(this.projection.name), this.keys.rebuildProgress(this.projection.name), this.token, this.options.lockTtlMs)
      .catch(() => 1); // a Redis hiccup is not a lost lock; the next renewal decides
    if (kept === 0) this.lost = true;
  }

  private async publish(): Promise<void> {
    this.options.onProgress?.(this.state);
    const key = this.keys.rebuildProgress(this.projection.name);
    // A pipeline, not MULTI: an EXEC here would drop the WATCH a batch may hold on this connection.
    await this.redis
      .pipeline()
      .hset(key, { ...this.progress })
      .pexpire(key, this.options.lockTtlMs)
      .exec()
      .catch(() => undefined); // progress is informative; the rebuild itself does not depend on it
  }
}
