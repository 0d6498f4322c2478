import { recordedEvent } from "../../test/support/projectionSpec";
import { orderStockReactor } from "./inventory/reactions";
import { orderPaymentReactor } from "./payments/reactions";

/** The choreography reactions, read from Ordering's events as its contract types them. */
const recorded = (type: string, data: unknown) => recordedEvent({ type, data }, 1, { id: "ordering.order-o-1" });

const lines = [{ sku: "TEA", quantity: 2 }, { sku: "MUG", quantity: 1 }];
const shipped = recorded("OrderShipped", { orderId: "o-1", customerId: "c-1", lines });
const cancelled = (previousStatus: string) =>
  recorded("OrderCancelled", { orderId: "o-1", customerId: "c-1", reason: "changed my mind", previousStatus, lines });

describe("order-stock (Inventory)", () => {
  it("commits every line of a shipped order", () => {
    expect(orderStockReactor.react(shipped)).toEqual([
      { key: "TEA", command: { type: "CommitStock", sku: "TEA", orderId: "o-1" } },
      { key: "MUG", command: { type: "CommitStock", sku: "MUG", orderId: "o-1" } },
    ]);
  });

  it("releases every line of a confirmed order that is cancelled", () => {
    expect(orderStockReactor.react(cancelled("CONFIRMED"))).toEqual([
      { key: "TEA", command: { type: "ReleaseStock", sku: "TEA", orderId: "o-1" } },
      { key: "MUG", command: { type: "ReleaseStock", sku: "MUG", orderId: "o-1" } },
    ]);
  });

  it("leaves a pending order's cancellation to the checkout saga, and ignores other events", () => {
    expect(orderStockReactor.react(cancelled("PENDING"))).toEqual([]);
    expect(orderStockReactor.react(recorded("OrderConfirmed", { orderId: "o-1", customerId: "c-1" }))).toEqual([]);
  });
});

describe("order-payment (Payments)", () => {
  it("captures a shipped order's payment", () => {
    expect(orderPaymentReactor.react(shipped)).toEqual([{ key: "capture", command: { type: "CapturePayment", customerId: "c-1", orderId: "o-1" } }]);
  });

  it("voids a confirmed order's payment when it is cancelled, with the order's reason", () => {
    expect(orderPaymentReactor.react(cancelled("CONFIRMED"))).toEqual([
      { key: "void", command: { type: "VoidPayment", customerId: "c-1", orderId: "o-1", reason: "changed my mind" } },
    ]);
  });

  it("leaves a pending order's cancellation to the checkout saga", () => {
    expect(orderPaymentReactor.react(cancelled("PENDING"))).toEqual([]);
  });

  it("subscribes to exactly the events it reacts to", () => {
    expect([...orderPaymentReactor.eventTypes].sort()).toEqual(["OrderCancelled", "OrderShipped"]);
    expect([...orderStockReactor.eventTypes].sort()).toEqual(["OrderCancelled", "OrderShipped"]);
  });
});
