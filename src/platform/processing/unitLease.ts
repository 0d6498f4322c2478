import { performance } from "node:perf_hooks";
import type { Fence } from "./checkpointer";
import type { WorkUnit } from "./leaseStore";

export type LeaseState = "free" | "held" | "releasing";

/**
 * This replica's view of one unit's lease, kept by the LeaseCoordinator and
 * read by the step it guards. A batch starts only while the lease is held and
 * its local deadline has not passed (a replica cut off from PostgreSQL stops
 * before its next batch); a batch already running finishes, and the fence
 * refuses its commit if a newer owner committed first.
 */
export class UnitLease {
  state: LeaseState = "free";
  token = 0;
  /** performance.now() after which no batch may start without a renewal. */
  validUntil = 0;
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(readonly unit: WorkUnit) {}

  /** The fence to drive the unit with now, or null when this replica must not. */
  fence(): Fence | null {
    return this.state === "held" && performance.now() < this.validUntil ? { token: this.token } : null;
  }

  /** Runs one batch under the lease; null (nothing run) when the lease is not ours to use now. */
  async drive<T>(work: (fence: Fence) => Promise<T>): Promise<T | null> {
    const fence = this.fence();
    if (!fence) return null;
    this.running += 1;
    try {
      return await work(fence);
    } finally {
      this.running -= 1;
      if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once no batch runs under this lease (the hand-off point: a checkpoint). */
  idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  held(token: number, validUntil: number): void {
    this.state = "held";
    this.token = token;
    this.validUntil = validUntil;
  }

  /** Taken over (renewal refused, or a commit FENCED): stop now, release nothing. */
  lost(): void {
    this.state = "free";
    this.validUntil = 0;
  }
}
