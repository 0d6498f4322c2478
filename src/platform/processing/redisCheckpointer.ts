import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "../core/redis";
import { formatLogPosition, LOG_START, type LogPosition, parseLogPosition } from "../eventstore/logPosition";

/**
 * A checkpoint in Redis, committed in the same transaction as the writes it
 * covers (a projection's documents, indexes and change log), so a batch and
 * its checkpoint apply together exactly once.
 *
 * The fence today is WATCH on the checkpoint (and any key that decides where
 * it lives, such as a projection's active generation): EXEC answers null when
 * another runner moved one of them since `begin`, and nothing is written.
 * The connection must be dedicated to one step at a time, since WATCH is per
 * connection. On a Redis Cluster WATCH is no fence (GUIDE §2 rule 8): the
 * scale-out issue replaces `commit` with a Lua compare-and-set on the
 * checkpoint and the owner's lease token; callers do not change.
 */
export class RedisCheckpointer {
  constructor(private readonly redis: RedisClient) {}

  /**
   * Opens a unit of work: watches `fence`, resolves where the checkpoint
   * lives (which may read fenced keys), watches it and reads it.
   */
  async begin<T extends { checkpointKey: string }>(fence: readonly string[], resolve: () => Promise<T>): Promise<T & { from: LogPosition }> {
    if (fence.length) await this.redis.watch(...fence);
    const target = await resolve();
    await this.redis.watch(target.checkpointKey);
    return { ...target, from: parseCheckpoint(await this.redis.get(target.checkpointKey)) };
  }

  /** Watches more keys in the open unit of work (e.g. the documents a retried event touches). */
  async fence(...keys: string[]): Promise<void> {
    if (keys.length) await this.redis.watch(...keys);
  }

  /** Closes a unit of work that writes nothing. */
  async abort(): Promise<void> {
    await this.redis.unwatch();
  }

  /** Starts the transaction the handler stages its writes in. */
  transaction(): ChainableCommander {
    return this.redis.multi();
  }

  /**
   * Sets the checkpoint in the staged transaction (unless `next` is null:
   * writes that do not move it) and commits; a stale unit of work is refused.
   */
  async commit(tx: ChainableCommander, checkpointKey: string, next: LogPosition | null): Promise<{ success: true } | { success: false; reason: "MISMATCH" }> {
    if (next) tx.set(checkpointKey, formatLogPosition(next));
    const result = await tx.exec();
    if (result === null) return { success: false, reason: "MISMATCH" };
    const failed = result.find(([error]) => error);
    if (failed) throw failed[0];
    return { success: true };
  }

  async read(checkpointKey: string): Promise<LogPosition> {
    return parseCheckpoint(await this.redis.get(checkpointKey));
  }
}

export function parseCheckpoint(value: string | null): LogPosition {
  return (value && parseLogPosition(value)) || LOG_START;
}
