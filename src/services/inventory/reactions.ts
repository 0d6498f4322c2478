import type { RecordedEvent } from "../../platform/eventstore/types";
import type { Reactor } from "../../platform/service";

type OrderEndData = {
  orderId: string;
  previousStatus?: string;
  lines: Array<{ sku: string; quantity: number }>;
};

/**
 * Choreography, no orchestrator: a confirmed order that is cancelled gives
 * its stock back; a shipped order's stock leaves for good.
 */
export const orderStockReactor: Reactor = {
  name: "order-stock",
  eventTypes: ["OrderCancelled", "OrderShipped"],
  react(event: RecordedEvent) {
    const { orderId, previousStatus, lines } = event.data as OrderEndData;
    if (event.type === "OrderCancelled" && previousStatus !== "CONFIRMED") return []; // the checkout saga compensates pending orders
    const type = event.type === "OrderShipped" ? "CommitStock" : "ReleaseStock";
    return lines.map(({ sku }) => ({ key: sku, command: { type, sku, orderId } }));
  },
};
