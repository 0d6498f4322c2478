import { Pool, type PoolConfig } from "pg";

/**
 * A pg Pool that survives its server: an idle client whose connection drops
 * emits 'error' on the pool, which would crash the process if unheard. The
 * pool replaces such clients by itself; queries in flight fail and are
 * reported by their callers as UNAVAILABLE.
 */
export function createPool(connectionString: string, config: PoolConfig = {}, onError?: (error: Error) => void): Pool {
  const pool = new Pool({ connectionString, max: 10, connectionTimeoutMillis: 5000, ...config });
  pool.on("error", (error) => onError?.(error));
  return pool;
}
