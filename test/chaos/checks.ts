import type { Pool } from "pg";
import { moneyConservation, stockConservation } from "../support/invariants";
import type { TestDatabase } from "../support/testEnv";
import type { Checkout } from "./workload";

/** One broken promise, named so a report reader knows which. */
export interface Violation {
  check: string;
  detail: string;
}

const rows = async <T extends object>(pool: Pool, sql: string, params: unknown[] = []) => (await pool.query<T>(sql, params)).rows;

/** Every command's events were appended once: one transaction per commandId, one OrderPlaced per accepted order. */
export async function exactlyOnce(db: TestDatabase, checkouts: readonly Checkout[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  const twice = await rows<{ command_id: string; appends: number }>(
    db.pool,
    `SELECT metadata->>'actor' || ' ' || (metadata->>'commandId') AS command_id, count(DISTINCT transaction_id)::int AS appends
     FROM events WHERE metadata ? 'commandId' GROUP BY 1 HAVING count(DISTINCT transaction_id) > 1`,
  );
  for (const r of twice) violations.push({ check: "exactly once", detail: `command ${r.command_id} appended ${r.appends} times` });
  const placed = new Map(
    (await rows<{ order_id: string; n: number }>(db.pool, "SELECT data->>'orderId' AS order_id, count(*)::int AS n FROM events WHERE type = 'OrderPlaced' GROUP BY 1")).map(
      (r) => [r.order_id, r.n],
    ),
  );
  for (const c of checkouts) {
    const n = placed.get(c.orderId) ?? 0;
    const expected = c.outcome === "accepted" ? 1 : 0;
    if (n !== expected) violations.push({ check: "exactly once", detail: `${c.orderId} (${c.outcome}) placed ${n} times` });
  }
  return violations;
}

interface OrderFacts {
  orderId: string;
  status: string | null;
  reason: string | null;
  /** Units reserved and neither released nor committed. */
  reservedOpen: number;
  paymentHeld: boolean;
  duplicates: string[];
}

/** Per order, folded from the log: its final status, what it still holds, and any effect applied twice. */
async function orderFacts(pool: Pool): Promise<Map<string, OrderFacts>> {
  const events = await rows<{ type: string; order_id: string; sku: string | null; reason: string | null; quantity: number | null }>(
    pool,
    `SELECT type, data->>'orderId' AS order_id, data->>'sku' AS sku, data->>'reason' AS reason, (data->>'quantity')::int AS quantity FROM events
     WHERE type IN ('OrderPlaced','OrderConfirmed','OrderCancelled','OrderShipped','StockReserved','StockReservationReleased',
                    'StockReservationCommitted','PaymentAuthorized','PaymentVoided','PaymentCaptured','PaymentRefunded')
     ORDER BY global_position`,
  );
  const facts = new Map<string, OrderFacts>();
  const seen = new Set<string>();
  for (const e of events) {
    const f = facts.get(e.order_id) ?? facts.set(e.order_id, { orderId: e.order_id, status: null, reason: null, reservedOpen: 0, paymentHeld: false, duplicates: [] }).get(e.order_id)!;
    const once = `${e.order_id}/${e.type}/${e.sku ?? ""}`;
    if (seen.has(once) && !e.type.startsWith("Order")) f.duplicates.push(`${e.type}${e.sku ? ` ${e.sku}` : ""}`);
    seen.add(once);
    if (e.type === "OrderPlaced") f.status = "PENDING";
    if (e.type === "OrderConfirmed") f.status = "CONFIRMED";
    if (e.type === "OrderShipped") f.status = "SHIPPED";
    if (e.type === "OrderCancelled") [f.status, f.reason] = ["CANCELLED", e.reason];
    // Units, not events: a release tombstone (quantity 0) holds and frees nothing.
    if (e.type === "StockReserved") f.reservedOpen += e.quantity ?? 0;
    if (e.type === "StockReservationReleased" || e.type === "StockReservationCommitted") f.reservedOpen -= e.quantity ?? 0;
    if (e.type === "PaymentAuthorized") f.paymentHeld = true;
    if (e.type === "PaymentVoided" || e.type === "PaymentCaptured") f.paymentHeld = false;
  }
  return facts;
}

/**
 * Orders settled and their effects consistent: CONFIRMED holds its stock and
 * money, CANCELLED holds nothing (compensation ran), nothing happened twice.
 */
export async function settlement(db: TestDatabase): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const f of (await orderFacts(db.pool)).values()) {
    if (f.status === null) continue; // a reservation or payment for an order never placed would show as a duplicate-free orphan below
    if (f.status !== "CONFIRMED" && f.status !== "CANCELLED" && f.status !== "SHIPPED") violations.push({ check: "orders settled", detail: `${f.orderId} is ${f.status}` });
    if (f.status === "CANCELLED" && (f.reservedOpen !== 0 || f.paymentHeld)) {
      violations.push({ check: "compensation", detail: `${f.orderId} cancelled but still holds ${f.reservedOpen} unit(s) of stock${f.paymentHeld ? " and a payment" : ""}` });
    }
    if (f.status === "CONFIRMED" && !f.paymentHeld) violations.push({ check: "compensation", detail: `${f.orderId} confirmed without a held payment` });
    for (const d of f.duplicates) violations.push({ check: "no double effect", detail: `${f.orderId}: ${d} twice` });
  }
  return violations;
}

/** No saga is stuck: every instance finished, or failed with its reason on record. */
export async function sagasSettled(db: TestDatabase): Promise<Violation[]> {
  const open = await rows<{ stream_id: string; type: string; data: Record<string, unknown> }>(
    db.pool,
    `SELECT stream_id, type, data FROM (SELECT DISTINCT ON (stream_id) stream_id, type, data FROM events
       WHERE stream_id >= 'saga.' AND stream_id < 'saga/' ORDER BY stream_id, stream_version DESC) last
     WHERE type <> 'SagaFinished'`,
  );
  return open.map((s) =>
    s.type === "SagaFailed"
      ? { check: "sagas", detail: `${s.stream_id} FAILED (${String(s.data.code)}: ${String(s.data.message)})` }
      : { check: "sagas", detail: `${s.stream_id} stuck after ${s.type}` },
  );
}

export async function conservation(db: TestDatabase): Promise<Violation[]> {
  const violations: Violation[] = (await stockConservation(db)).map((p) => ({ check: "stock conserved", detail: `${p.sku}: ${p.problem}` }));
  const money = await moneyConservation(db);
  if (money.accounted !== money.putIn) violations.push({ check: "money conserved", detail: `${money.accounted} accounted of ${money.putIn} put in` });
  if (money.negative) violations.push({ check: "money conserved", detail: "an account went negative" });
  return violations;
}

/** How the accepted checkouts ended, from the log: for the report, and to see each kind really ran. */
export async function outcomes(db: TestDatabase): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const f of (await orderFacts(db.pool)).values()) {
    const key = f.status === "CANCELLED" ? `cancelled: ${f.reason}` : String(f.status).toLowerCase();
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Each accepted checkout ended the way its kind must: a fault may only turn
 * it into a timeout, never into a different failure.
 */
export async function expectedOutcomes(db: TestDatabase, checkouts: readonly Checkout[]): Promise<Violation[]> {
  const facts = await orderFacts(db.pool);
  const allowed: Record<Checkout["kind"], RegExp> = {
    success: /^CONFIRMED$|^CANCELLED: checkout timed out$/,
    outOfStock: /^CANCELLED: (out of stock|checkout timed out)/,
    declined: /^CANCELLED: (payment declined|checkout timed out)$/,
  };
  return checkouts.flatMap((c) => {
    if (c.outcome !== "accepted") return [];
    const f = facts.get(c.orderId);
    const ended = `${f?.status ?? "MISSING"}${f?.reason ? `: ${f.reason}` : ""}`;
    return allowed[c.kind].test(ended) ? [] : [{ check: "outcomes", detail: `${c.orderId} (${c.kind}) ended ${ended}` }];
  });
}
