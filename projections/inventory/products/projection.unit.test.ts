import type { RecordedEvent } from "../../../src/platform/eventstore/types";
import { indexMember } from "../../../src/platform/projection/readModelStore";
import type { InventoryEvent } from "../../../src/services/inventory/contract";
import { productsProjection, type ProductView } from "./projection";

const SKU = "TEA-1";
const at = (n: number) => `2030-01-01T00:00:${String(n).padStart(2, "0")}.000Z`;

function recorded(event: InventoryEvent, n: number): RecordedEvent {
  return {
    eventId: `e-${n}`,
    streamId: `inventory.product-${event.data.sku}`,
    streamVersion: n,
    globalPosition: BigInt(n),
    position: { transactionId: BigInt(100 + n), globalPosition: BigInt(n) },
    type: event.type,
    schemaVersion: 1,
    data: event.data,
    metadata: { correlationId: "k", causationId: "k", actor: "test", recordedAt: at(n) },
  };
}

// Every input and intermediate document is frozen: evolve must build new documents, never mutate.
function fold(events: InventoryEvent[], from: ProductView | null = null): ProductView | null {
  return events.reduce<ProductView | null>((doc, event, i) => {
    const e = recorded(event, i + 1);
    return productsProjection.evolve(deepFreeze(doc), deepFreeze(e), productsProjection.documentIds(e)[0]!);
  }, from);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const defined = (initialStock: number): InventoryEvent => ({
  type: "ProductDefined",
  data: { sku: SKU, name: "Green Tea", priceMinor: 450, currency: "EUR", initialStock },
});
const priceChanged: InventoryEvent = { type: "ProductPriceChanged", data: { sku: SKU, priceMinor: 500, previousPriceMinor: 450 } };
const restocked = (quantity: number): InventoryEvent => ({ type: "StockRestocked", data: { sku: SKU, quantity } });
const reserved = (quantity: number): InventoryEvent => ({ type: "StockReserved", data: { sku: SKU, orderId: "o-1", quantity } });
const released = (quantity: number): InventoryEvent => ({ type: "StockReservationReleased", data: { sku: SKU, orderId: "o-1", quantity } });
const committed = (quantity: number): InventoryEvent => ({ type: "StockReservationCommitted", data: { sku: SKU, orderId: "o-1", quantity } });

describe("products projection", () => {
  it("reads every inventory event type and keys documents by SKU", () => {
    expect([...productsProjection.eventTypes].sort()).toEqual([
      "ProductDefined", "ProductPriceChanged", "StockReservationCommitted", "StockReservationReleased", "StockReserved", "StockRestocked",
    ]);
    expect(productsProjection.documentIds(recorded(reserved(1), 1))).toEqual([SKU]);
  });

  it("ProductDefined creates the product with its initial stock", () => {
    expect(fold([defined(10)])).toEqual({
      id: SKU,
      sku: SKU,
      name: "Green Tea",
      priceMinor: 450,
      currency: "EUR",
      available: 10,
      reserved: 0,
      inStock: true,
      version: 1,
      position: "101.1",
      updatedAt: at(1),
    });
  });

  it("a price change moves the price only", () => {
    expect(fold([defined(10), priceChanged])).toMatchObject({ priceMinor: 500, available: 10, reserved: 0, version: 2 });
  });

  it("reserving moves units from available to reserved; releasing moves them back", () => {
    expect(fold([defined(10), reserved(4)])).toMatchObject({ available: 6, reserved: 4 });
    expect(fold([defined(10), reserved(4), released(4)])).toMatchObject({ available: 10, reserved: 0, version: 3, position: "103.3" });
  });

  it("committing takes reserved units out of stock for good", () => {
    expect(fold([defined(10), reserved(4), committed(4)])).toMatchObject({ available: 6, reserved: 0 });
  });

  it("is out of stock when nothing is available, and in stock again after a restock", () => {
    const soldOut = fold([defined(2), reserved(2)])!;
    expect(soldOut).toMatchObject({ available: 0, reserved: 2, inStock: false });
    expect(fold([restocked(5)], soldOut)).toMatchObject({ available: 5, inStock: true });
  });

  it("ignores an event for a product it never saw defined", () => {
    expect(fold([restocked(5)])).toBeNull();
  });

  it("indexes by SKU and by lower-case name, and in the in-stock indexes only with stock available", () => {
    const member = (key: string) => indexMember(key, SKU);
    expect(productsProjection.indexes!(fold([defined(1)])!)).toEqual([
      { index: "bySku", member: member(SKU) },
      { index: "byName", member: member("green tea") },
      { index: "inStock:bySku", member: member(SKU) },
      { index: "inStock:byName", member: member("green tea") },
    ]);
    expect(productsProjection.indexes!(fold([defined(0)])!)).toEqual([
      { index: "bySku", member: member(SKU) },
      { index: "byName", member: member("green tea") },
    ]);
  });

  it("announces every change on the product's topic, and stock movements on the stock-levels feed too", () => {
    const doc = fold([defined(10)]);
    expect(productsProjection.topics!(SKU, doc, recorded(reserved(1), 2))).toEqual([`product:${SKU}`, "stock-levels"]);
    expect(productsProjection.topics!(SKU, doc, recorded(priceChanged, 2))).toEqual([`product:${SKU}`]);
  });
});
