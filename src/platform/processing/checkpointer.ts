import type { LogPosition } from "../eventstore/logPosition";

/**
 * Emmett's `store` answer: the new checkpoint, or why it was refused. A
 * MISMATCH means someone else moved the checkpoint since the batch was read
 * (another replica, a retried job, an operator's rewind): the batch is stale
 * and its commit is refused, so a checkpoint never moves backwards and never
 * skips. FENCED means a newer owner of the processor's lease has committed:
 * this one lost its lease and must stand by (nothing was written).
 */
export type StoreResult = { success: true; checkpoint: LogPosition } | { success: false; reason: StoreRefusal };

export type StoreRefusal = "MISMATCH" | "FENCED";

/**
 * A lease's fencing token: it grows at each change of owner, and a commit is
 * refused once a higher token than its own was stored for that checkpoint.
 * 0 when there is no lease. A commit without a fence is not checked.
 */
export interface Fence {
  token: number;
}

/**
 * A checkpoint kept apart from the processor's effects: the effects happen
 * first (idempotently), then `store` compares and sets. At least once.
 * (A projection's checkpoint is committed inside the read-model transaction
 * instead: see redisCheckpointer.ts.)
 */
export interface Checkpointer {
  read(processor: string): Promise<LogPosition>;
  /**
   * Sets `next` only if the stored checkpoint still equals `expected` and `next` is after it, and (with a
   * fence) no higher token than `fence.token` was stored; then stores the token too.
   */
  store(processor: string, expected: LogPosition, next: LogPosition, fence?: Fence): Promise<StoreResult>;
}
