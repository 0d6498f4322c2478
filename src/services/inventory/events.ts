import type { DomainEvent } from "../../platform/eventstore/types";

/** Facts about a product, past tense. Their shapes are a contract with every reader of the log. */
export type ProductDefined = DomainEvent<
  "ProductDefined",
  { sku: string; name: string; priceMinor: number; currency: string; initialStock: number }
>;
export type ProductPriceChanged = DomainEvent<
  "ProductPriceChanged",
  { sku: string; priceMinor: number; previousPriceMinor: number }
>;
export type StockRestocked = DomainEvent<"StockRestocked", { sku: string; quantity: number }>;
export type StockReserved = DomainEvent<"StockReserved", { sku: string; orderId: string; quantity: number }>;
/** `quantity: 0` is a tombstone: released before any reservation, so a late reserve is refused. */
export type StockReservationReleased = DomainEvent<
  "StockReservationReleased",
  { sku: string; orderId: string; quantity: number }
>;
export type StockReservationCommitted = DomainEvent<
  "StockReservationCommitted",
  { sku: string; orderId: string; quantity: number }
>;

export type InventoryEvent =
  | ProductDefined
  | ProductPriceChanged
  | StockRestocked
  | StockReserved
  | StockReservationReleased
  | StockReservationCommitted;

export type InventoryEventType = InventoryEvent["type"];

// A record keyed by the union makes a new event type a compile error here until it is listed,
// so projections subscribing to `inventoryEventTypes` never silently miss one.
const eventTypeSet: Readonly<Record<InventoryEventType, true>> = {
  ProductDefined: true,
  ProductPriceChanged: true,
  StockRestocked: true,
  StockReserved: true,
  StockReservationReleased: true,
  StockReservationCommitted: true,
};

export const inventoryEventTypes: readonly InventoryEventType[] = Object.freeze(
  Object.keys(eventTypeSet) as InventoryEventType[],
);
