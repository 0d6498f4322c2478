import type { DomainEvent } from "../../platform/eventstore/types";

/** Facts about a product, past tense. Their shapes are a contract with every reader of the log. */
export type ProductDefined = DomainEvent<
  "ProductDefined",
  { sku: string; name: string; priceMinor: number; currency: string; initialStock: number }
>;
export type ProductPriceChanged = DomainEvent<"ProductPriceChanged", { sku: string; priceMinor: number; previousPriceMinor: number }>;
export type StockRestocked = DomainEvent<"StockRestocked", { sku: string; quantity: number }>;
export type StockReserved = DomainEvent<"StockReserved", { sku: string; orderId: string; quantity: number }>;
export type StockReservationReleased = DomainEvent<"StockReservationReleased", { sku: string; orderId: string; quantity: number }>;
export type StockReservationCommitted = DomainEvent<"StockReservationCommitted", { sku: string; orderId: string; quantity: number }>;

export type InventoryEvent =
  | ProductDefined
  | ProductPriceChanged
  | StockRestocked
  | StockReserved
  | StockReservationReleased
  | StockReservationCommitted;

export const inventoryEventTypes: readonly InventoryEvent["type"][] = [
  "ProductDefined",
  "ProductPriceChanged",
  "StockRestocked",
  "StockReserved",
  "StockReservationReleased",
  "StockReservationCommitted",
];

const known = new Set<string>(inventoryEventTypes);

export function isInventoryEvent(event: DomainEvent): event is InventoryEvent {
  return known.has(event.type);
}
