import { isEvent, eventTypesOf } from "../../platform/aggregate/contract";
import type { Reactor } from "../../platform/processing/reactorRunner";
import { orderingContract } from "../ordering/contract";
import type { InventoryCommand } from "./commands";

/**
 * Choreography, no orchestrator: a confirmed order that is cancelled gives
 * its stock back; a shipped order's stock leaves for good.
 */
export const orderStockReactor: Reactor<InventoryCommand> = {
  name: "order-stock",
  eventTypes: eventTypesOf(orderingContract, ["OrderCancelled", "OrderShipped"]),
  react(event) {
    if (isEvent(event, orderingContract, "OrderShipped")) {
      const { orderId, lines } = event.data;
      return lines.map(({ sku }) => ({ key: sku, command: { type: "CommitStock", sku, orderId } }));
    }
    // A pending order is the checkout saga's to compensate.
    if (isEvent(event, orderingContract, "OrderCancelled") && event.data.previousStatus === "CONFIRMED") {
      const { orderId, lines } = event.data;
      return lines.map(({ sku }) => ({ key: sku, command: { type: "ReleaseStock", sku, orderId } }));
    }
    return [];
  },
};
