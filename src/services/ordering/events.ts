import type { DomainEvent } from "../../platform/eventstore/types";

/** A priced line as placed: `lineTotalMinor` is `quantity * unitPriceMinor`. */
export type OrderLine = { sku: string; quantity: number; unitPriceMinor: number; lineTotalMinor: number };
/** What a line asks of the warehouse, carried by cancellation and shipping so their readers need nothing else. */
export type OrderItem = { sku: string; quantity: number };

/** Facts about an order, past tense. Their shapes are a contract with every reader of the log (decision 0001). */
export type OrderPlaced = DomainEvent<
  "OrderPlaced",
  { orderId: string; customerId: string; lines: OrderLine[]; totalMinor: number; currency: string }
>;
export type OrderConfirmed = DomainEvent<"OrderConfirmed", { orderId: string; customerId: string }>;
export type OrderCancelled = DomainEvent<
  "OrderCancelled",
  {
    orderId: string;
    customerId: string;
    reason: string;
    previousStatus: "PENDING" | "CONFIRMED";
    lines: OrderItem[];
  }
>;
export type OrderShipped = DomainEvent<"OrderShipped", { orderId: string; customerId: string; lines: OrderItem[] }>;

export type OrderingEvent = OrderPlaced | OrderConfirmed | OrderCancelled | OrderShipped;

export type OrderingEventType = OrderingEvent["type"];

// A record keyed by the union makes a new event type a compile error here until it is listed,
// so projections and sagas subscribing to `orderingEventTypes` never silently miss one.
const eventTypeSet: Readonly<Record<OrderingEventType, true>> = {
  OrderPlaced: true,
  OrderConfirmed: true,
  OrderCancelled: true,
  OrderShipped: true,
};

export const orderingEventTypes: readonly OrderingEventType[] = Object.freeze(
  Object.keys(eventTypeSet) as OrderingEventType[],
);
