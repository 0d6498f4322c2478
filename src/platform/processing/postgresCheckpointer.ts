import type { Queryable } from "../eventstore/eventStore";
import { LOG_START, type LogPosition } from "../eventstore/logPosition";
import type { Checkpointer, Fence, StoreResult } from "./checkpointer";

/**
 * Checkpoints in PostgreSQL, next to the log (table subscription_checkpoints).
 * `store` is a compare-and-set in one statement: a second replica or a
 * retried batch that read at an older checkpoint changes nothing, nor does a
 * former lease owner once a higher fencing token has been stored.
 */
export class PostgresCheckpointer implements Checkpointer {
  constructor(private readonly db: Queryable) {}

  async read(processor: string): Promise<LogPosition> {
    return (await readPostgresCheckpoint(this.db, processor)) ?? LOG_START;
  }

  async store(processor: string, expected: LogPosition, next: LogPosition, fence?: Fence): Promise<StoreResult> {
    const token = fence ? String(fence.token) : null;
    const { rowCount } = await this.db.query(
      `INSERT INTO subscription_checkpoints (name, transaction_id, global_position, fence_token)
       VALUES ($1, $2::text::xid8, $3::bigint, COALESCE($6::bigint, 0))
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
         global_position = EXCLUDED.global_position, updated_at = now(),
         fence_token = GREATEST(subscription_checkpoints.fence_token, EXCLUDED.fence_token)
       WHERE (subscription_checkpoints.transaction_id, subscription_checkpoints.global_position) = ($4::text::xid8, $5::bigint)
         AND (EXCLUDED.transaction_id, EXCLUDED.global_position) > ($4::text::xid8, $5::bigint)
         AND ($6::bigint IS NULL OR subscription_checkpoints.fence_token <= $6::bigint)`,
      [
        processor,
        next.transactionId.toString(),
        next.globalPosition.toString(),
        expected.transactionId.toString(),
        expected.globalPosition.toString(),
        token,
      ],
    );
    if (rowCount === 1) return { success: true, checkpoint: next };
    return { success: false, reason: fence && (await this.storedToken(processor)) > fence.token ? "FENCED" : "MISMATCH" };
  }

  /** The highest fencing token stored for `processor` (0 without one): tells FENCED from MISMATCH after a refusal. */
  private async storedToken(processor: string): Promise<number> {
    const { rows } = await this.db.query<{ token: string }>("SELECT fence_token::text AS token FROM subscription_checkpoints WHERE name = $1", [processor]);
    return Number(rows[0]?.token ?? 0);
  }
}

/** The stored checkpoint of a PostgreSQL-checkpointed processor, or null before its first batch. */
export async function readPostgresCheckpoint(db: Queryable, processor: string): Promise<LogPosition | null> {
  const { rows } = await db.query<{ tx: string; pos: string }>(
    "SELECT transaction_id::text AS tx, global_position::text AS pos FROM subscription_checkpoints WHERE name = $1",
    [processor],
  );
  const row = rows[0];
  return row ? { transactionId: BigInt(row.tx), globalPosition: BigInt(row.pos) } : null;
}
