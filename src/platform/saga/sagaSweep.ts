import { errorMessage } from "../core/errors";
import type { Queryable } from "../eventstore/eventStore";
import type { Logger } from "../observability/logger";

/**
 * Every `everyMs`, asks for each unfinished saga instance to be advanced:
 * covers lost wake-ups, lost queues and runner restarts.
 *
 * A timer over the sagas' current state, not a log processor: it must find
 * the same unfinished instances again on every pass until they end, so it
 * has no checkpoint to move; and it reads the open instances the appends
 * keep (migration 8), not the log in commit order. What it triggers is
 * idempotent (an advance deduplicated per instance), so two sweeps racing
 * cost only a query.
 * It runs in this process, not as a job in Redis, because it is what
 * recovers sagas after Redis lost its queues.
 */
export class SagaSweep {
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly db: Queryable,
    private readonly wake: (stream: string, saga: string) => Promise<void>,
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sweepOnce(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async sweepOnce(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const { stream, saga } of await unfinishedSagas(this.db)) await this.wake(stream, saga);
    } catch (error) {
      this.log.warn(`saga sweep failed (next one in ${this.everyMs} ms): ${errorMessage(error)}`);
    } finally {
      this.sweeping = false;
    }
  }
}

/**
 * Saga instances started (or redriven) and not yet finished or failed: the
 * `open_sagas` table, which the appends themselves keep (migration 8), so a
 * sweep costs what is open, not every saga the log has ever run.
 */
export async function unfinishedSagas(db: Queryable): Promise<Array<{ stream: string; saga: string }>> {
  const { rows } = await db.query<{ stream_id: string; saga: string }>(
    `SELECT stream_id, split_part(substr(stream_id, 6), '-', 1) AS saga FROM open_sagas ORDER BY stream_id`,
  );
  return rows.map((row) => ({ stream: row.stream_id, saga: row.saga }));
}
