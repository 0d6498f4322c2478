import type { TestDatabase } from "../support/testEnv";
import type { Checkout } from "./workload";

/**
 * How available checkout was through the faults: the share of accepted
 * checkouts that reached a business outcome (confirmed, out of stock,
 * declined) rather than the saga's timeout, and the time from the first
 * `placeOrder` request to the order's final status (its last OrderConfirmed or
 * OrderCancelled: a confirmation that came after the deadline is undone by a
 * timeout cancellation; stamped by the service that appended it, same machine clock).
 */
export interface Availability {
  accepted: number;
  businessOutcomes: number;
  timedOut: number;
  /** businessOutcomes / accepted, 1 when nothing was accepted. */
  share: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export async function availability(db: TestDatabase, checkouts: readonly Checkout[]): Promise<Availability> {
  const { rows } = await db.pool.query<{ order_id: string; type: string; reason: string | null; recorded_at: string }>(
    `SELECT DISTINCT ON (data->>'orderId') data->>'orderId' AS order_id, type, data->>'reason' AS reason, metadata->>'recordedAt' AS recorded_at
     FROM events WHERE type IN ('OrderConfirmed', 'OrderCancelled') ORDER BY data->>'orderId', global_position DESC`,
  );
  const final = new Map(rows.map((r) => [r.order_id, r]));
  const accepted = checkouts.filter((c) => c.outcome === "accepted");
  const durations: number[] = [];
  let timedOut = 0;
  for (const c of accepted) {
    const f = final.get(c.orderId);
    if (!f) continue; // unsettled: the settle checks report it
    if (f.type === "OrderCancelled" && f.reason === "checkout timed out") timedOut += 1;
    durations.push(Date.parse(f.recorded_at) - c.startedAt);
  }
  durations.sort((a, b) => a - b);
  const at = (q: number) => (durations.length ? durations[Math.min(durations.length - 1, Math.ceil(q * durations.length) - 1)]! : null);
  const business = durations.length - timedOut;
  return {
    accepted: accepted.length,
    businessOutcomes: business,
    timedOut,
    share: accepted.length ? business / accepted.length : 1,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: durations.at(-1) ?? null,
  };
}

export function formatAvailability(a: Availability): string {
  const ms = (v: number | null) => (v === null ? "-" : `${(v / 1000).toFixed(2)} s`);
  return `  availability: ${(a.share * 100).toFixed(2)}% business outcomes (${a.businessOutcomes} of ${a.accepted}, ${a.timedOut} timed out); placeOrder → final status p50 ${ms(a.p50Ms)}, p99 ${ms(a.p99Ms)}, max ${ms(a.maxMs)}`;
}

/** Waits (bounded, polling the log) until the order has a final status; a closed-loop client's pause between checkouts. */
export async function finalStatus(db: TestDatabase, orderId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await db.pool
      .query("SELECT 1 FROM events WHERE stream_id = $1 AND type IN ('OrderConfirmed', 'OrderCancelled') LIMIT 1", [`ordering.order-${orderId}`])
      .then((r) => (r.rowCount ?? 0) > 0, () => false);
    if (found) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
