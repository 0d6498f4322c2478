import type { Pool } from "pg";
import { OrderChangesDocument, OrderStatusChangedDocument } from "../graphql/generated";
import { collect, wsClient } from "../support/graphqlClient";
import type { Violation } from "./checks";

type Change = { orderId: string; eventType: string; position: string };

/**
 * Subscribers that stay connected through the whole run: one per sampled
 * order, and one on the feed of all orders. At the end each must have seen
 * its orders' changes in commit order, without gaps or repeats.
 *
 * They follow from `after` (the log's head before the load): a subscription
 * is live only once the server has it, and the first orders can be placed
 * and projected before that, so a live-only feed would miss their first
 * changes. From a position, the feed replays them (GUIDE rule 11).
 */
export function watchOrders(apiUrl: string, orderIds: readonly string[], after: string | null) {
  const client = wsClient(apiUrl.replace(/^http/, "ws"));
  const from = after === null ? {} : { after };
  const perOrder = orderIds.map((id) => ({ id, feed: collect(client, OrderStatusChangedDocument, { id, ...from }) }));
  const all = collect(client, OrderChangesDocument, from);
  const changesOf = (received: Array<{ eventType: string; position: string; order?: { orderId?: string; status?: string } | null }>, orderId?: string): Change[] =>
    received.map((c) => ({ orderId: orderId ?? c.order?.orderId ?? "?", eventType: c.eventType, position: c.position }));

  return {
    async check(pool: Pool, accepted: ReadonlySet<string>): Promise<{ violations: Violation[]; changes: number }> {
      const violations: Violation[] = [];
      let changes = 0;
      const expectOrder = async (who: string, orderId: string, got: Change[]) => {
        const { rows } = await pool.query<{ type: string }>(
          "SELECT type FROM events WHERE type IN ('OrderPlaced','OrderConfirmed','OrderCancelled','OrderShipped') AND data->>'orderId' = $1 ORDER BY transaction_id, global_position",
          [orderId],
        );
        const want = rows.map((r) => r.type);
        const seen = got.map((c) => c.eventType);
        changes += seen.length;
        if (JSON.stringify(seen) !== JSON.stringify(want)) {
          violations.push({ check: "subscriptions", detail: `${who} saw ${orderId} as [${seen.join(", ")}], the log says [${want.join(", ")}]` });
        }
      };
      for (const { id, feed } of perOrder) if (accepted.has(id)) await expectOrder("orderStatusChanged", id, changesOf(feed.received.map((r) => r.orderStatusChanged), id));
      const byOrder = new Map<string, Change[]>();
      for (const c of changesOf(all.received.map((r) => r.orderChanges))) byOrder.set(c.orderId, [...(byOrder.get(c.orderId) ?? []), c]);
      for (const id of accepted) await expectOrder("orderChanges", id, byOrder.get(id) ?? []);
      return { violations, changes };
    },
    async close() {
      perOrder.forEach((p) => p.feed.stop());
      all.stop();
      await client.dispose();
    },
  };
}
