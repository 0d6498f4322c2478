import type { RecordedEvent } from "../../../src/platform/eventstore/types";
import { stampOf } from "../../../src/platform/projection/stamp";
import { indexMember } from "../../../src/platform/projection/readModelStore";
import type { DocumentProjection, IndexEntry } from "../../../src/platform/projection/types";
import { type InventoryEvent, inventoryContract, inventoryEventTypes } from "../../../src/services/inventory/contract";
import { isEventOf } from "../../../src/platform/aggregate/contract";

/** The catalog and stock read model: one document per product, sorted indexes for listing. */
export interface ProductView {
  id: string;
  sku: string;
  name: string;
  priceMinor: number;
  currency: string;
  available: number;
  reserved: number;
  inStock: boolean;
  version: number;
  position: string;
  updatedAt: string;
}

export const PRODUCTS = "products";
export const PRODUCT_TOPIC = "product";
export const STOCK_LEVELS_TOPIC = "stock-levels";

/** Index names; the in-stock variants hold only products with stock available. */
export const productIndex = {
  bySku: "bySku",
  byName: "byName",
  inStockBySku: "inStock:bySku",
  inStockByName: "inStock:byName",
} as const;

const isInventoryEvent = (event: RecordedEvent) => isEventOf(event, inventoryContract);

const STOCK_EVENTS = new Set<string>([
  "ProductDefined",
  "StockRestocked",
  "StockReserved",
  "StockReservationReleased",
  "StockReservationCommitted",
]);

export const productsProjection: DocumentProjection<ProductView> = {
  name: PRODUCTS,
  eventTypes: inventoryEventTypes,
  history: true,

  // Every Inventory event names its product.
  documentIds: (event) => (isInventoryEvent(event) ? [event.data.sku] : []),

  evolve(doc, recorded) {
    if (!isInventoryEvent(recorded)) return doc;
    const next = applyEvent(doc, recorded);
    if (!next) return doc;
    return { ...next, inStock: next.available > 0, ...stampOf(recorded) };
  },

  indexes(doc) {
    const entries: IndexEntry[] = [
      { index: productIndex.bySku, member: indexMember(doc.sku, doc.id) },
      { index: productIndex.byName, member: indexMember(doc.name.toLowerCase(), doc.id) },
    ];
    if (doc.inStock) {
      entries.push(
        { index: productIndex.inStockBySku, member: indexMember(doc.sku, doc.id) },
        { index: productIndex.inStockByName, member: indexMember(doc.name.toLowerCase(), doc.id) },
      );
    }
    return entries;
  },

  topics: (id, _doc, event) => [`${PRODUCT_TOPIC}:${id}`, ...(STOCK_EVENTS.has(event.type) ? [STOCK_LEVELS_TOPIC] : [])],
};

type ProductFields = Omit<ProductView, "inStock" | "version" | "position" | "updatedAt">;

function applyEvent(doc: ProductView | null, event: InventoryEvent): ProductFields | null {
  if (event.type === "ProductDefined") {
    const d = event.data;
    return { id: d.sku, sku: d.sku, name: d.name, priceMinor: d.priceMinor, currency: d.currency, available: d.initialStock, reserved: 0 };
  }
  if (!doc) return null; // an event for a product this read model never saw defined: ignore, never invent one
  switch (event.type) {
    case "ProductPriceChanged":
      return { ...doc, priceMinor: event.data.priceMinor };
    case "StockRestocked":
      return { ...doc, available: doc.available + event.data.quantity };
    case "StockReserved":
      return { ...doc, available: doc.available - event.data.quantity, reserved: doc.reserved + event.data.quantity };
    case "StockReservationReleased":
      return { ...doc, available: doc.available + event.data.quantity, reserved: doc.reserved - event.data.quantity };
    case "StockReservationCommitted":
      return { ...doc, reserved: doc.reserved - event.data.quantity };
  }
}
