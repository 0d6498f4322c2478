import { at, foldFrozen, recordedEvent } from "../../../test/support/projectionSpec";
import { indexMember } from "../../../src/platform/projection/readModelStore";
import type { InventoryEvent } from "../../../src/services/inventory/contract";
import { productsProjection, type ProductView } from "./projection";

const SKU = "TEA-1";

const recorded = (event: InventoryEvent, n: number) => recordedEvent(event, n, { id: `inventory.product-${event.data.sku}` });
const fold = (events: InventoryEvent[], from: ProductView | null = null) => foldFrozen(productsProjection, events.map((e, i) => recorded(e, i + 1)), from);

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
