import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import type { NewEvent } from "../../src/platform/eventstore/types";

/** Events shaped like Inventory's own (projections/inventory/products/projection.ts reads them). */
export const benchMetadata = (commandId: string) => ({
  correlationId: commandId,
  causationId: commandId,
  commandId,
  actor: "bench",
});

export function stockReserved(sku: string, orderId: string): NewEvent {
  return { type: "StockReserved", data: { sku, orderId, quantity: 1 }, metadata: benchMetadata(orderId) };
}

export function productDefined(sku: string, initialStock = 1_000_000_000): NewEvent {
  return {
    type: "ProductDefined",
    data: { sku, name: `Product ${sku}`, priceMinor: 1250, currency: "EUR", initialStock },
    metadata: benchMetadata(`define-${sku}`),
  };
}

/** The columns an INSERT into `events` (or a table LIKE it) sets; the rest are defaults. */
export const INSERT_COLUMNS = "event_id, stream_id, stream_version, type, schema_version, data, metadata";

/** One row for a raw INSERT: the same values EventStore.append would write. */
export function rawRow(streamId: string, version: number, event: NewEvent): unknown[] {
  return [
    randomUUID(),
    streamId,
    version,
    event.type,
    1,
    JSON.stringify(event.data),
    JSON.stringify({ ...event.metadata, recordedAt: new Date().toISOString() }),
  ];
}

/** `INSERT ... VALUES ($1..$7), ($8..$14), ...` for `rows` rows. */
export function multiRowInsert(table: string, rows: number): string {
  const tuples = Array.from({ length: rows }, (_, r) => {
    const base = r * 7;
    return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}::jsonb, $${base + 7}::jsonb)`;
  });
  return `INSERT INTO ${table} (${INSERT_COLUMNS}) VALUES ${tuples.join(", ")}`;
}

export function benchSku(n: number): string {
  return `BENCH-${String(n).padStart(6, "0")}`;
}

export function productStream(sku: string): string {
  return `inventory.product-${sku}`;
}

/**
 * Writes `events` inventory events straight into the log with multi-row
 * INSERT ... SELECT (generated in PostgreSQL, `batch` rows per statement and
 * transaction), spread over `products` product streams: each stream starts
 * with ProductDefined, then reservations, releases and commits, in stream
 * order. Far faster than appending one by one; the rows are the same shape.
 */
export async function seedInventoryLog(
  pool: Pool,
  options: { events: number; products: number; batch?: number; onProgress?: (done: number) => void },
): Promise<void> {
  const { events, products } = options;
  const batch = options.batch ?? 20_000;
  const sql = `
    INSERT INTO events (${INSERT_COLUMNS})
    SELECT gen_random_uuid(), 'inventory.product-' || s.sku, s.version, s.type, 1, s.data,
           jsonb_build_object('correlationId', 'seed-' || g, 'causationId', 'seed-' || g, 'commandId', 'seed-' || g,
                              'actor', 'bench', 'recordedAt', '2026-01-01T00:00:00.000Z')
    FROM generate_series($1::bigint, $2::bigint) AS g,
    LATERAL (SELECT 'BENCH-' || lpad((g % $3)::text, 6, '0') AS sku, (g / $3 + 1)::int AS version) AS k,
    LATERAL (SELECT k.sku, k.version,
      CASE WHEN k.version = 1 THEN 'ProductDefined'
           WHEN k.version % 4 IN (0, 2) THEN 'StockReserved'
           WHEN k.version % 4 = 3 THEN 'StockReservationReleased'
           ELSE 'StockReservationCommitted' END AS type,
      CASE WHEN k.version = 1 THEN jsonb_build_object('sku', k.sku, 'name', 'Product ' || substr(md5(k.sku), 1, 10),
                                                     'priceMinor', 100 + g % 9000, 'currency', 'EUR', 'initialStock', 1000000000)
           WHEN k.version % 4 IN (0, 2) THEN jsonb_build_object('sku', k.sku, 'orderId', 'o-' || g, 'quantity', 1)
           ELSE jsonb_build_object('sku', k.sku, 'orderId', 'o-' || (g - $3), 'quantity', 1) END AS data) AS s
    ORDER BY g`;
  for (let from = 0; from < events; from += batch) {
    const to = Math.min(events, from + batch) - 1;
    await pool.query(sql, [from, to, products]);
    options.onProgress?.(to + 1);
  }
  await pool.query("ANALYZE events");
}
