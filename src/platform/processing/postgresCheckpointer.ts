import type { Queryable } from "../eventstore/eventStore";
import { LOG_START, type LogPosition } from "../eventstore/logPosition";
import type { Checkpointer, StoreResult } from "./checkpointer";

/**
 * Checkpoints in PostgreSQL, next to the log (table subscription_checkpoints).
 * `store` is a compare-and-set in one statement: a second replica or a
 * retried batch that read at an older checkpoint changes nothing.
 */
export class PostgresCheckpointer implements Checkpointer {
  constructor(private readonly db: Queryable) {}

  async read(processor: string): Promise<LogPosition> {
    return (await readPostgresCheckpoint(this.db, processor)) ?? LOG_START;
  }

  async store(processor: string, expected: LogPosition, next: LogPosition): Promise<StoreResult> {
    const { rowCount } = await this.db.query(
      `INSERT INTO subscription_checkpoints (name, transaction_id, global_position) VALUES ($1, $2::text::xid8, $3::bigint)
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
         global_position = EXCLUDED.global_position, updated_at = now()
       WHERE (subscription_checkpoints.transaction_id, subscription_checkpoints.global_position) = ($4::text::xid8, $5::bigint)
         AND (EXCLUDED.transaction_id, EXCLUDED.global_position) > ($4::text::xid8, $5::bigint)`,
      [
        processor,
        next.transactionId.toString(),
        next.globalPosition.toString(),
        expected.transactionId.toString(),
        expected.globalPosition.toString(),
      ],
    );
    return rowCount === 1 ? { success: true, checkpoint: next } : { success: false, reason: "MISMATCH" };
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
