import type { RecordedEvent } from "../../../src/platform/eventstore/types";
import { stampOf } from "../../../src/platform/projection/stamp";
import { indexMember } from "../../../src/platform/projection/readModelStore";
import type { DocumentProjection, IndexEntry } from "../../../src/platform/projection/types";
import { type OrderingEvent, orderingContract, orderingEventTypes } from "../../../src/services/ordering/contract";
import { isEventOf } from "../../../src/platform/aggregate/contract";

export type OrderStatus = "PENDING" | "CONFIRMED" | "SHIPPED" | "CANCELLED";

export interface OrderLineView {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
  lineTotalMinor: number;
}

/** One step of an order's life, so a client can show a timeline without reading the log. */
export interface OrderHistoryEntry {
  status: OrderStatus;
  eventType: string;
  /** When the event was recorded (metadata.recordedAt). */
  at: string;
  position: string;
}

/** The order read model: one document per order, listed per customer and globally. */
export interface OrderView {
  id: string;
  customerId: string;
  status: OrderStatus;
  lines: OrderLineView[];
  totalMinor: number;
  currency: string;
  cancelReason: string | null;
  history: OrderHistoryEntry[];
  placedAt: string;
  updatedAt: string;
  version: number;
  position: string;
}

export const ORDERS = "orders";
/** `order:<orderId>`: every change of one order. */
export const ORDER_TOPIC = "order";
/** Feed of every change of every order. */
export const ORDERS_TOPIC = "orders";

export const orderIndex = {
  all: "all",
  byCustomer: (customerId: string) => `byCustomer:${customerId}`,
} as const;

const isOrderingEvent = (event: RecordedEvent) => isEventOf(event, orderingContract);

export const ordersProjection: DocumentProjection<OrderView> = {
  name: ORDERS,
  eventTypes: orderingEventTypes,
  history: true,

  // Every Ordering event names its order.
  documentIds: (event) => (isOrderingEvent(event) ? [event.data.orderId] : []),

  // An order's events route by its id, so every segment holds whole orders (PROJECTION_SEGMENTS=orders=4).
  routing: { event: (event) => (isOrderingEvent(event) ? event.data.orderId : event.streamId) },

  evolve(doc, recorded) {
    if (!isOrderingEvent(recorded)) return doc;
    const next = applyEvent(doc, recorded, recorded.metadata.recordedAt);
    if (!next) return doc;
    const stamp = stampOf(recorded);
    return {
      ...next,
      history: [...next.history, { status: next.status, eventType: recorded.type, at: stamp.updatedAt, position: stamp.position }],
      ...stamp,
    };
  },

  // Keyed by placement time, so a descending read lists the newest orders first;
  // the order id ends the member to keep it unique when two orders share a millisecond.
  indexes(doc) {
    const entries: IndexEntry[] = [
      { index: orderIndex.all, member: indexMember(doc.placedAt, doc.id) },
      { index: orderIndex.byCustomer(doc.customerId), member: indexMember(doc.placedAt, doc.id) },
    ];
    return entries;
  },

  // An event for an order this read model never saw placed changes nothing, so it announces nothing.
  topics: (id, doc) => (doc ? [`${ORDER_TOPIC}:${id}`, ORDERS_TOPIC] : []),
};

type OrderFields = Omit<OrderView, "updatedAt" | "version" | "position">;

/** The order's fields after one event, or null when the event does not apply to what this view holds. */
function applyEvent(doc: OrderView | null, event: OrderingEvent, recordedAt: string): OrderFields | null {
  if (event.type === "OrderPlaced") {
    if (doc) return null; // the decider refuses a second placement; never let a replay overwrite an order
    const d = event.data;
    return {
      id: d.orderId,
      customerId: d.customerId,
      status: "PENDING",
      lines: d.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceMinor: l.unitPriceMinor, lineTotalMinor: l.lineTotalMinor })),
      totalMinor: d.totalMinor,
      currency: d.currency,
      cancelReason: null,
      history: [],
      placedAt: recordedAt,
    };
  }
  if (!doc) return null; // never invent an order from a later event
  switch (event.type) {
    case "OrderConfirmed":
      return { ...doc, status: "CONFIRMED" };
    case "OrderCancelled":
      return { ...doc, status: "CANCELLED", cancelReason: event.data.reason };
    case "OrderShipped":
      return { ...doc, status: "SHIPPED" };
  }
}
