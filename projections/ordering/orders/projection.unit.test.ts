import type { RecordedEvent } from "../../../src/platform/eventstore/types";
import { foldFrozen, recordedEvent } from "../../../test/support/projectionSpec";
import { indexMember } from "../../../src/platform/projection/readModelStore";
import type { OrderingEvent } from "../../../src/services/ordering/contract";
import { ordersProjection, type OrderView } from "./projection";

const CUSTOMER = "c-1";

const recorded = (event: OrderingEvent, n: number, streamVersion = n) =>
  recordedEvent(event, n, { id: `ordering.order-${event.data.orderId}`, version: streamVersion });
const fold = (events: RecordedEvent[], from: OrderView | null = null) => foldFrozen(ordersProjection, events, from);

const placed: Extract<OrderingEvent, { type: "OrderPlaced" }> = {
  type: "OrderPlaced",
  data: {
    orderId: "o-1",
    customerId: CUSTOMER,
    lines: [
      { sku: "A-1", quantity: 2, unitPriceMinor: 150, lineTotalMinor: 300 },
      { sku: "B-2", quantity: 1, unitPriceMinor: 999, lineTotalMinor: 999 },
    ],
    totalMinor: 1299,
    currency: "EUR",
  },
};
const confirmed: OrderingEvent = { type: "OrderConfirmed", data: { orderId: "o-1", customerId: CUSTOMER } };
const items = [
  { sku: "A-1", quantity: 2 },
  { sku: "B-2", quantity: 1 },
];
const shipped: OrderingEvent = { type: "OrderShipped", data: { orderId: "o-1", customerId: CUSTOMER, lines: items } };
const cancelled = (previousStatus: "PENDING" | "CONFIRMED"): OrderingEvent => ({
  type: "OrderCancelled",
  data: { orderId: "o-1", customerId: CUSTOMER, reason: "out of stock", previousStatus, lines: items },
});

describe("orders projection", () => {
  it("reads every ordering event type and keys documents by order id", () => {
    expect([...ordersProjection.eventTypes].sort()).toEqual(["OrderCancelled", "OrderConfirmed", "OrderPlaced", "OrderShipped"]);
    expect(ordersProjection.documentIds(recorded(confirmed, 2))).toEqual(["o-1"]);
  });

  it("OrderPlaced creates a pending order with its priced lines", () => {
    expect(fold([recorded(placed, 1)])).toEqual({
      id: "o-1",
      customerId: CUSTOMER,
      status: "PENDING",
      lines: [
        { sku: "A-1", quantity: 2, unitPriceMinor: 150, lineTotalMinor: 300 },
        { sku: "B-2", quantity: 1, unitPriceMinor: 999, lineTotalMinor: 999 },
      ],
      totalMinor: 1299,
      currency: "EUR",
      cancelReason: null,
      history: [{ status: "PENDING", eventType: "OrderPlaced", at: "2030-01-01T00:00:01.000Z", position: "101.1" }],
      placedAt: "2030-01-01T00:00:01.000Z",
      updatedAt: "2030-01-01T00:00:01.000Z",
      version: 1,
      position: "101.1",
    });
  });

  it("PENDING → CONFIRMED → SHIPPED, with one history entry per step", () => {
    const doc = fold([recorded(placed, 1), recorded(confirmed, 2), recorded(shipped, 3)])!;
    expect(doc).toMatchObject({
      status: "SHIPPED",
      cancelReason: null,
      placedAt: "2030-01-01T00:00:01.000Z",
      updatedAt: "2030-01-01T00:00:03.000Z",
      version: 3,
      position: "103.3",
    });
    expect(doc.history).toEqual([
      { status: "PENDING", eventType: "OrderPlaced", at: "2030-01-01T00:00:01.000Z", position: "101.1" },
      { status: "CONFIRMED", eventType: "OrderConfirmed", at: "2030-01-01T00:00:02.000Z", position: "102.2" },
      { status: "SHIPPED", eventType: "OrderShipped", at: "2030-01-01T00:00:03.000Z", position: "103.3" },
    ]);
  });

  it("PENDING → CANCELLED keeps the reason", () => {
    const doc = fold([recorded(placed, 1), recorded(cancelled("PENDING"), 2)])!;
    expect(doc).toMatchObject({ status: "CANCELLED", cancelReason: "out of stock", version: 2 });
    expect(doc.history.map((h) => h.status)).toEqual(["PENDING", "CANCELLED"]);
  });

  it("CONFIRMED → CANCELLED", () => {
    const doc = fold([recorded(placed, 1), recorded(confirmed, 2), recorded(cancelled("CONFIRMED"), 3)])!;
    expect(doc).toMatchObject({ status: "CANCELLED", cancelReason: "out of stock", version: 3 });
    expect(doc.history.map((h) => h.eventType)).toEqual(["OrderPlaced", "OrderConfirmed", "OrderCancelled"]);
  });

  it("ignores an event for an order it never saw placed, and announces nothing", () => {
    const event = recorded(confirmed, 2);
    expect(fold([event])).toBeNull();
    expect(ordersProjection.topics!("o-1", null, event)).toEqual([]);
  });

  it("never lets a second OrderPlaced overwrite an order", () => {
    const doc = fold([recorded(placed, 1), recorded(confirmed, 2)])!;
    expect(fold([recorded(placed, 9)], doc)).toBe(doc);
  });

  it("indexes by placement time in `all` and in the customer's partition", () => {
    const doc = fold([recorded(placed, 1), recorded(confirmed, 2)])!;
    const member = indexMember("2030-01-01T00:00:01.000Z", "o-1");
    expect(ordersProjection.indexes!(doc)).toEqual([
      { index: "all", member },
      { index: "byCustomer:c-1", member },
    ]);
  });

  it("members sort in placement order, so a descending read is newest first", () => {
    const first = fold([recorded(placed, 1)])!;
    const later = fold([recorded({ ...placed, data: { ...placed.data, orderId: "a-0" } }, 5)])!;
    const members = [later, first].map((d) => ordersProjection.indexes!(d)[0]!.member).sort();
    expect(members.map((m) => m.endsWith("o-1"))).toEqual([true, false]);
  });

  it("announces every change on the order's topic and on the orders feed", () => {
    const event = recorded(placed, 1);
    expect(ordersProjection.topics!("o-1", fold([event]), event)).toEqual(["order:o-1", "orders"]);
  });
});
