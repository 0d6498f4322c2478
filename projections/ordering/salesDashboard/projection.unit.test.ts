import { foldFrozen, recordedEvent } from "../../../test/support/projectionSpec";
import type { OrderingEvent } from "../../../src/services/ordering/contract";
import type { PaymentsEvent } from "../../../src/services/payments/contract";
import { emptySalesDashboard, salesDashboardProjection, type SalesDashboardView } from "./projection";

type AnyEvent = OrderingEvent | PaymentsEvent;

const recorded = (event: AnyEvent, n: number) => recordedEvent(event, n, { id: "some-stream", version: 1 });

// The dashboard is one document: every event routes to it.
function fold(events: AnyEvent[]): SalesDashboardView | null {
  const log = events.map((e, i) => recorded(e, i + 1));
  for (const e of log) expect(salesDashboardProjection.documentIds(e)).toEqual(["sales"]);
  return foldFrozen(salesDashboardProjection, log);
}

const lines = (...items: Array<[string, number]>) => items.map(([sku, quantity]) => ({ sku, quantity }));
const placed = (orderId: string, ...items: Array<[string, number]>): OrderingEvent => ({
  type: "OrderPlaced",
  data: {
    orderId,
    customerId: "c-1",
    lines: items.map(([sku, quantity]) => ({ sku, quantity, unitPriceMinor: 100, lineTotalMinor: 100 * quantity })),
    totalMinor: items.reduce((sum, [, q]) => sum + 100 * q, 0),
    currency: "EUR",
  },
});
const confirmed = (orderId: string): OrderingEvent => ({ type: "OrderConfirmed", data: { orderId, customerId: "c-1" } });
const shipped = (orderId: string, ...items: Array<[string, number]>): OrderingEvent => ({
  type: "OrderShipped",
  data: { orderId, customerId: "c-1", lines: lines(...items) },
});
const cancelled = (orderId: string, previousStatus: "PENDING" | "CONFIRMED", ...items: Array<[string, number]>): OrderingEvent => ({
  type: "OrderCancelled",
  data: { orderId, customerId: "c-1", reason: "r", previousStatus, lines: lines(...items) },
});
const captured = (orderId: string, amountMinor: number): PaymentsEvent => ({
  type: "PaymentCaptured",
  data: { customerId: "c-1", orderId, amountMinor },
});
const refunded = (orderId: string, amountMinor: number): PaymentsEvent => ({
  type: "PaymentRefunded",
  data: { customerId: "c-1", orderId, amountMinor },
});

const counts = (PENDING: number, CONFIRMED: number, SHIPPED: number, CANCELLED: number) => ({ PENDING, CONFIRMED, SHIPPED, CANCELLED });

describe("sales dashboard projection", () => {
  it("reads every ordering event and only the payment events that move revenue", () => {
    expect([...salesDashboardProjection.eventTypes].sort()).toEqual([
      "OrderCancelled", "OrderConfirmed", "OrderPlaced", "OrderShipped", "PaymentCaptured", "PaymentRefunded",
    ]);
  });

  it("OrderPlaced counts a pending order and its units", () => {
    expect(fold([placed("o-1", ["A", 2], ["B", 1])])).toEqual({
      id: "sales",
      ordersByStatus: counts(1, 0, 0, 0),
      capturedRevenueMinor: 0,
      unitsBySku: { A: 2, B: 1 },
      updatedAt: "2030-01-01T00:00:01.000Z",
      position: "101.1",
    });
  });

  it("moves an order PENDING → CONFIRMED → SHIPPED; shipped units stay sold", () => {
    const doc = fold([placed("o-1", ["A", 2]), confirmed("o-1"), shipped("o-1", ["A", 2])])!;
    expect(doc.ordersByStatus).toEqual(counts(0, 0, 1, 0));
    expect(doc.unitsBySku).toEqual({ A: 2 });
    expect(doc).toMatchObject({ updatedAt: "2030-01-01T00:00:03.000Z", position: "103.3" });
  });

  it("PENDING → CANCELLED takes the order's units out", () => {
    const doc = fold([placed("o-1", ["A", 2], ["B", 1]), placed("o-2", ["A", 1]), cancelled("o-1", "PENDING", ["A", 2], ["B", 1])])!;
    expect(doc.ordersByStatus).toEqual(counts(1, 0, 0, 1));
    expect(doc.unitsBySku).toEqual({ A: 1 }); // B fell to 0 and is dropped
  });

  it("CONFIRMED → CANCELLED leaves from the status named by previousStatus", () => {
    const doc = fold([placed("o-1", ["A", 2]), placed("o-2", ["B", 3]), confirmed("o-1"), cancelled("o-1", "CONFIRMED", ["A", 2])])!;
    expect(doc.ordersByStatus).toEqual(counts(1, 0, 0, 1));
    expect(doc.unitsBySku).toEqual({ B: 3 });
  });

  it("revenue is captured minus refunded", () => {
    expect(fold([captured("o-1", 500), captured("o-2", 300), refunded("o-1", 500)])!.capturedRevenueMinor).toBe(300);
  });

  it("keeps a SKU named __proto__ as an ordinary key", () => {
    const doc = fold([placed("o-1", ["__proto__", 2])])!;
    expect(Object.getPrototypeOf(doc.unitsBySku)).toBe(Object.prototype);
    expect(Object.entries(doc.unitsBySku)).toEqual([["__proto__", 2]]);
  });

  it("changes nothing for a payment event that moves no revenue", () => {
    const authorized: PaymentsEvent = { type: "PaymentAuthorized", data: { customerId: "c-1", orderId: "o-1", amountMinor: 500 } };
    const before = fold([captured("o-1", 500)])!;
    expect(salesDashboardProjection.evolve(before, recorded(authorized, 2), "sales")).toBe(before);
  });

  it("starts empty and always announces on the dashboard topic", () => {
    expect(emptySalesDashboard()).toMatchObject({ ordersByStatus: counts(0, 0, 0, 0), capturedRevenueMinor: 0, unitsBySku: {} });
    const e = recorded(captured("o-1", 1), 1);
    expect(salesDashboardProjection.topics!("sales", null, e)).toEqual(["sales-dashboard"]);
  });
});
