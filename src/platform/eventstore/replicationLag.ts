import type { QueryResult, QueryResultRow } from "pg";

/** A pool or a client (EventStore's Queryable, spelled out so this file does not import eventStore.ts back). */
interface Queries {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

// 0 once the standby has replayed all the WAL the primary has flushed (an idle log is no lag);
// otherwise the age of the last transaction it replayed, or of the standby itself when it has
// replayed none since it started. On the primary itself (pg_is_in_recovery() false): 0.
const READER_LAG_SQL = `
SELECT (CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_replay_lsn() >= $1::pg_lsn THEN 0
  ELSE extract(epoch FROM now() - coalesce(pg_last_xact_replay_timestamp(), pg_postmaster_start_time()))
END)::float8 AS seconds`;

/**
 * How many seconds the log reader's server (a hot standby) is behind the
 * primary: the primary's flushed WAL position is read first, so a standby
 * that has replayed up to it counts as caught up however long the log was idle.
 */
export async function replicationLagSeconds(primary: Queries, reader: Queries): Promise<number> {
  if (primary === reader) return 0;
  const { rows: head } = await primary.query<{ lsn: string }>("SELECT pg_current_wal_flush_lsn()::text AS lsn");
  const { rows } = await reader.query<{ seconds: number }>(READER_LAG_SQL, [head[0]?.lsn]);
  return Math.max(0, Number(rows[0]?.seconds ?? 0));
}
