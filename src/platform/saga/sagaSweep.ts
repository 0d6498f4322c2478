import { errorMessage } from "../core/errors";
import { Periodic } from "../core/periodic";
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
  private readonly passes: Periodic;

  constructor(db: Queryable, wake: (stream: string, saga: string) => Promise<void>, everyMs: number, log: Logger) {
    const sweepOnce = async () => {
      for (const { stream, saga } of await unfinishedSagas(db)) await wake(stream, saga);
    };
    this.passes = new Periodic(sweepOnce, everyMs, (error) => log.warn(`saga sweep failed (next one in ${everyMs} ms): ${errorMessage(error)}`));
  }

  /**
   * The first sweep comes after `everyMs`: at start-up a sweep would queue an advance for every open
   * instance, those that live runners are advancing included, while a dead runner's are handed on
   * within RECLAIM_WITHIN_MS anyway (reclaimed jobs, claims).
   */
  start(): void {
    this.passes.start({ now: false });
  }

  stop(): Promise<void> {
    return this.passes.stop();
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
