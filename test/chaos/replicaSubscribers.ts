import type { Pool } from "pg";
import { print } from "graphql";
import { orderingEventTypes } from "../../src/services/ordering/events";
import { OrderChangesDocument, StockLevelsDocument } from "../graphql/generated";
import { failoverClient, follow } from "../support/resumingClients";
import { eventually } from "../support/system";
import type { Violation } from "./checks";

const STOCK_EVENTS = ["ProductDefined", "StockRestocked", "StockReserved", "StockReservationReleased", "StockReservationCommitted"];
type Seen = { position: string };

/** The head of the log as a feed position (`<transaction id>.<global position>`), or null when it is empty. */
export async function logHead(pool: Pool): Promise<string | null> {
  const { rows } = await pool.query<{ position: string }>(
    "SELECT transaction_id::text || '.' || global_position::text AS position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
  );
  return rows[0]?.position ?? null;
}

/** Positions of the events of `types` after `start`, in commit order, as the log has them. */
async function logPositions(pool: Pool, types: readonly string[], start: string | null): Promise<string[]> {
  const [tx, pos] = (start ?? "0.0").split(".");
  const { rows } = await pool.query<{ position: string }>(
    `SELECT transaction_id::text || '.' || global_position::text AS position FROM events
     WHERE type = ANY($1) AND (transaction_id, global_position) > ($2::text::xid8, $3::bigint) ORDER BY transaction_id, global_position`,
    [types, tx, pos],
  );
  return rows.map((r) => r.position);
}

/**
 * Subscribers spread over the API replicas, each following `orderChanges`
 * and `stockLevels` from `start` with a client that tries the next replica on
 * every reconnect and resumes after its last position. Whichever replica
 * dies, each must end up with exactly the log's changes, in commit order.
 */
export function followReplicas(urls: () => readonly string[], start: string | null, count = 4) {
  const subscribers = Array.from({ length: count }, (_, i) => {
    const connectedTo: string[] = [];
    const client = failoverClient(() => urls().map((u) => u.replace(/^http/, "ws")), {
      first: i,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 150)),
      connectedTo: (url) => connectedTo.push(url),
    });
    const s = { client, connectedTo, orders: [] as Seen[], stock: [] as Seen[], failures: [] as string[], stops: [] as Array<() => void> };
    const failed = (error: { message: string }) => s.failures.push(error.message);
    s.stops.push(follow(client, print(OrderChangesDocument), "orderChanges", start, { change: (c: Seen) => s.orders.push(c), failed }));
    s.stops.push(follow(client, print(StockLevelsDocument), "stockLevels", start, { change: (c: Seen) => s.stock.push(c), failed }));
    return s;
  });

  return {
    subscribers: count,
    /** How many times a subscriber connected, in all (more than `count` once a replica died under some). */
    connections: () => subscribers.reduce((sum, s) => sum + s.connectedTo.length, 0),
    /** Waits (bounded) for every feed to reach the log, then compares each with it. */
    async check(pool: Pool, timeoutMs = 60_000): Promise<{ violations: Violation[]; changes: number }> {
      const [orders, stock] = await Promise.all([logPositions(pool, orderingEventTypes, start), logPositions(pool, STOCK_EVENTS, start)]);
      await eventually(
        async () => subscribers.every((s) => s.orders.length >= orders.length && s.stock.length >= stock.length),
        "every subscriber to receive every change",
        timeoutMs,
        100,
      ).catch(() => undefined); // a subscriber that fell short is reported below
      const violations: Violation[] = [];
      let changes = 0;
      subscribers.forEach((s, i) => {
        for (const failure of s.failures) violations.push({ check: "subscriptions", detail: `subscriber ${i} failed: ${failure}` });
        for (const [feed, got, want] of [["orderChanges", s.orders, orders], ["stockLevels", s.stock, stock]] as const) {
          changes += got.length;
          const positions = got.map((c) => c.position);
          const first = positions.findIndex((p, at) => p !== want[at]);
          if (first >= 0 || positions.length !== want.length) {
            const at = first >= 0 ? first : Math.min(positions.length, want.length);
            violations.push({
              check: "subscriptions",
              detail: `subscriber ${i} (${s.connectedTo.length} connections) got ${positions.length} ${feed} changes, the log has ${want.length}; first difference at #${at}: got ${positions[at] ?? "nothing"}, log ${want[at] ?? "nothing"}`,
            });
          }
        }
      });
      return { violations, changes };
    },
    async close() {
      for (const s of subscribers) s.stops.forEach((stop) => stop());
      await Promise.all(subscribers.map((s) => s.client.dispose()));
    },
  };
}
