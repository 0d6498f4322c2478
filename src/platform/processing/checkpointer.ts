import type { LogPosition } from "../eventstore/logPosition";

/**
 * Emmett's `store` answer: the new checkpoint, or why it was refused. A
 * MISMATCH means someone else moved the checkpoint since the batch was read
 * (another replica, a retried job, an operator's rewind): the batch is stale
 * and its commit is refused, so a checkpoint never moves backwards and never
 * skips. With leases (scale-out issue) the fencing token joins this check.
 */
export type StoreResult = { success: true; checkpoint: LogPosition } | { success: false; reason: "MISMATCH" };

/**
 * A checkpoint kept apart from the processor's effects: the effects happen
 * first (idempotently), then `store` compares and sets. At least once.
 * (A projection's checkpoint is committed inside the read-model transaction
 * instead: see redisCheckpointer.ts.)
 */
export interface Checkpointer {
  read(processor: string): Promise<LogPosition>;
  /** Sets `next` only if the stored checkpoint still equals `expected` and `next` is after it. */
  store(processor: string, expected: LogPosition, next: LogPosition): Promise<StoreResult>;
}
