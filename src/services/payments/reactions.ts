import { isEvent, eventTypesOf } from "../../platform/aggregate/contract";
import type { Reactor } from "../../platform/processing/reactorRunner";
import { orderingContract } from "../ordering/contract";
import type { PaymentsCommand } from "./commands";

/**
 * Choreography, no orchestrator: a confirmed order that is cancelled releases
 * the money held for it; a shipped order's payment is captured.
 */
export const orderPaymentReactor: Reactor<PaymentsCommand> = {
  name: "order-payment",
  eventTypes: eventTypesOf(orderingContract, ["OrderCancelled", "OrderShipped"]),
  react(event) {
    if (isEvent(event, orderingContract, "OrderShipped")) {
      const { orderId, customerId } = event.data;
      return [{ key: "capture", command: { type: "CapturePayment", customerId, orderId } }];
    }
    // A pending order is the checkout saga's to compensate.
    if (isEvent(event, orderingContract, "OrderCancelled") && event.data.previousStatus === "CONFIRMED") {
      const { orderId, customerId, reason } = event.data;
      return [{ key: "void", command: { type: "VoidPayment", customerId, orderId, reason } }];
    }
    return [];
  },
};
