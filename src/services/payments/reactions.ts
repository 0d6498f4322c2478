import type { RecordedEvent } from "../../platform/eventstore/types";
import type { Reactor } from "../../platform/service";

type OrderEndData = { orderId: string; customerId: string; previousStatus?: string; reason?: string };

/**
 * Choreography, no orchestrator: a confirmed order that is cancelled releases
 * the money held for it; a shipped order's payment is captured.
 */
export const orderPaymentReactor: Reactor = {
  name: "order-payment",
  eventTypes: ["OrderCancelled", "OrderShipped"],
  react(event: RecordedEvent) {
    const { orderId, customerId, previousStatus, reason } = event.data as OrderEndData;
    if (event.type === "OrderShipped") return [{ key: "capture", command: { type: "CapturePayment", customerId, orderId } }];
    if (previousStatus !== "CONFIRMED") return []; // the checkout saga compensates pending orders
    return [{ key: "void", command: { type: "VoidPayment", customerId, orderId, reason: reason ?? "order cancelled" } }];
  },
};
