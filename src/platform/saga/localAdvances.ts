import { errorMessage } from "../core/errors";
import { Periodic } from "../core/periodic";
import type { RedisClient } from "../core/redis";
import type { WorkerRecovery } from "../bus/workerRecovery";
import type { Logger } from "../observability/logger";

export interface LocalAdvancesOptions {
  connection: RedisClient;
  /** The claims' hash (in the saga queue's hash slot). */
  key: string;
  /** Names this runner, tells which runners are gone, and sets the pace of the hand-over passes (as of its own). */
  recovery: WorkerRecovery;
  /** Hands an instance whose runner is gone to the queue. */
  handOver: (stream: string) => Promise<void>;
  /** Asked when an advance ends: true keeps its claim (it stopped halfway), for its successor to hand on. */
  keepClaim: () => boolean;
  log: Logger;
}

/**
 * The advances a saga runner runs in its own process instead of as queue jobs
 * (an instance's first one: the starter has just appended its whole state).
 * Each is claimed in a Redis hash under the runner's worker name before it
 * starts and released when it ends, so that one left running by a process that
 * died is handed to the queue as WorkerRecovery hands back a dead worker's jobs:
 * by any live runner, or the process's successor, within half of
 * RECLAIM_WITHIN_MS (WorkerRecovery's pass) plus the confirmation of the
 * death. The claim costs two commands; the job it replaces, a lifecycle of
 * several scripts and a stream read.
 */
export class LocalAdvances {
  private readonly running = new Set<Promise<void>>();
  private readonly passes: Periodic;

  constructor(private readonly options: LocalAdvancesOptions) {
    this.passes = new Periodic(() => this.reclaim(), options.recovery.passEveryMs, (error) => options.log.warn(`saga local advances: ${errorMessage(error)}`));
  }

  get size(): number {
    return this.running.size;
  }

  /** Claims `stream` for this runner, then runs `advance` without waiting for it; released when it settles. */
  async run(stream: string, advance: () => Promise<void>): Promise<void> {
    await this.options.connection.hset(this.options.key, stream, this.options.recovery.name);
    const run = advance()
      .catch((error: unknown) => this.options.log.warn(`saga ${stream}: ${errorMessage(error)}`))
      .finally(() => {
        this.running.delete(run);
        // A claim left behind is handed over, harmlessly: the advance it causes finds what was recorded.
        if (!this.options.keepClaim()) this.options.connection.hdel(this.options.key, stream).catch(() => undefined);
      });
    this.running.add(run);
  }

  /** Hands over, now and at every pass, the instances claimed by runners that are gone. */
  start(): void {
    this.passes.start({ now: true });
  }

  /** Waits for the advances running here: each ends at its next step once the runner is stopping. */
  async stop(): Promise<void> {
    await this.passes.stop();
    await Promise.allSettled([...this.running]);
  }

  /** One pass; returns the instances it handed over. */
  async reclaim(): Promise<string[]> {
    const claims = Object.entries(await this.options.connection.hgetall(this.options.key)).filter(([, owner]) => owner !== this.options.recovery.name);
    const gone = await this.options.recovery.gone(new Set(claims.map(([, owner]) => owner)));
    const handed: string[] = [];
    for (const [stream, owner] of claims) {
      if (!gone.has(owner)) continue;
      await this.options.handOver(stream);
      await this.options.connection.hdel(this.options.key, stream);
      handed.push(stream);
    }
    if (handed.length > 0) this.options.log.info({ sagas: handed }, `saga: handed ${handed.length} instance(s) of a runner that is gone to the queue`);
    return handed;
  }
}
