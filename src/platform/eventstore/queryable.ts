import type { QueryConfig, QueryResult, QueryResultRow } from "pg";

/** A pool, or one client inside a transaction the caller controls. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  query<R extends QueryResultRow = QueryResultRow>(config: QueryConfig): Promise<QueryResult<R>>;
}
