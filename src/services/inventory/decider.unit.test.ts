import { fold } from "../../platform/aggregate/decider";
import { deciderSpec } from "../../../test/support/deciderSpec";
import { decidingParsed } from "../../platform/bus/commandExecutor";
import { inventoryContract } from "./contract";
import type { InventoryCommand } from "./commands";
import { productDecider, productStreamId } from "./decider";
import { inventoryErrors } from "./errors";
import type { InventoryEvent } from "./events";

const spec = deciderSpec(decidingParsed(productDecider, inventoryContract.parseCommand));
const SKU = "TSHIRT-RED-M";
const ORDER = "order-1";

const defined = (initialStock = 10, priceMinor = 1999): InventoryEvent => ({
  type: "ProductDefined",
  data: { sku: SKU, name: "Red T-shirt, M", priceMinor, currency: "EUR", initialStock },
});
const restocked = (quantity: number): InventoryEvent => ({ type: "StockRestocked", data: { sku: SKU, quantity } });
const reserved = (quantity: number, orderId = ORDER): InventoryEvent => ({
  type: "StockReserved",
  data: { sku: SKU, orderId, quantity },
});
const released = (quantity: number, orderId = ORDER): InventoryEvent => ({
  type: "StockReservationReleased",
  data: { sku: SKU, orderId, quantity },
});
const committed = (quantity: number, orderId = ORDER): InventoryEvent => ({
  type: "StockReservationCommitted",
  data: { sku: SKU, orderId, quantity },
});

const define = (fields: Partial<Extract<InventoryCommand, { type: "DefineProduct" }>> = {}): InventoryCommand => ({
  type: "DefineProduct",
  sku: SKU,
  name: "Red T-shirt, M",
  priceMinor: 1999,
  currency: "EUR",
  initialStock: 10,
  ...fields,
});
const changePrice = (priceMinor: number, sku = SKU): InventoryCommand => ({ type: "ChangePrice", sku, priceMinor });
const restock = (quantity: number, sku = SKU): InventoryCommand => ({ type: "Restock", sku, quantity });
const reserve = (quantity: number, orderId = ORDER, sku = SKU): InventoryCommand => ({
  type: "ReserveStock",
  sku,
  orderId,
  quantity,
});
const release = (orderId = ORDER, sku = SKU): InventoryCommand => ({ type: "ReleaseStock", sku, orderId });
const commit = (orderId = ORDER, sku = SKU): InventoryCommand => ({ type: "CommitStock", sku, orderId });

const MAX_PRICE = 10_000_000_000;
const badSkus: Array<[string, string]> = [
  ["empty", ""],
  ["one character", "A"],
  ["33 characters", "A".repeat(33)],
  ["lowercase", "tshirt-red"],
  ["a leading dash", "-TSHIRT"],
  ["an underscore", "TSHIRT_RED"],
  ["a space", "TSHIRT RED"],
];
const badQuantities: Array<[string, number]> = [
  ["zero", 0],
  ["negative", -1],
  ["fractional", 1.5],
  ["above 1,000,000", 1_000_001],
  ["NaN", Number.NaN],
];
const badOrderIds: Array<[string, string]> = [
  ["empty", ""],
  ["65 characters", "o".repeat(65)],
  ["a space", "order 1"],
  ["a slash", "order/1"],
];
const repeat = <T>(count: number, item: T): T[] => Array.from({ length: count }, () => item);

describe("productStreamId", () => {
  it("puts the SKU in the inventory product category", () => {
    expect(productStreamId("ABC-1")).toBe("inventory.product-ABC-1");
  });
});

describe("DefineProduct", () => {
  it("defines a new product", () => {
    spec.given([]).when(define()).then([defined()]);
  });

  it("stores the name trimmed", () => {
    spec.given([]).when(define({ name: "  Red T-shirt, M \n" })).then([defined()]);
  });

  it.each<[string, Partial<Extract<InventoryCommand, { type: "DefineProduct" }>>]>([
    ["a 2-character SKU", { sku: "A1" }],
    ["a 32-character SKU", { sku: "A".repeat(32) }],
    ["a 1-character name", { name: "X" }],
    ["a 120-character name", { name: "n".repeat(120) }],
    ["the lowest price (1)", { priceMinor: 1 }],
    ["the highest price", { priceMinor: MAX_PRICE }],
    ["no initial stock", { initialStock: 0 }],
    ["the largest initial stock", { initialStock: 1_000_000 }],
  ])("accepts %s", (_, fields) => {
    const command = define(fields) as Extract<InventoryCommand, { type: "DefineProduct" }>;
    const { type: _type, ...data } = command;
    spec.given([]).when(command).then([{ type: "ProductDefined", data }]);
  });

  it("refuses a SKU that is already defined with ALREADY_EXISTS", () => {
    spec.given([defined()]).when(define()).thenThrows("ALREADY_EXISTS", { sku: SKU });
  });

  it.each(badSkus)("refuses a SKU that is %s", (_, sku) => {
    spec.given([]).when(define({ sku })).thenThrows("VALIDATION", { field: "sku" });
  });

  it.each<[string, string]>([
    ["empty", ""],
    ["only whitespace", "   "],
    ["121 characters", "n".repeat(121)],
  ])("refuses a name that is %s", (_, name) => {
    spec.given([]).when(define({ name })).thenThrows("VALIDATION", { field: "name" });
  });

  it.each<[string, number]>([
    ["negative", -1],
    ["fractional", 19.99],
    ["above 10^10", MAX_PRICE + 1],
    ["beyond safe integers", Number.MAX_SAFE_INTEGER + 1],
    ["infinite", Number.POSITIVE_INFINITY],
  ])("refuses a price that is %s", (_, priceMinor) => {
    spec.given([]).when(define({ priceMinor })).thenThrows("VALIDATION", { field: "priceMinor" });
  });

  it.each<[string, string]>([
    ["lowercase", "eur"],
    ["two letters", "EU"],
    ["four letters", "EURO"],
    ["empty", ""],
  ])("refuses a currency that is %s", (_, currency) => {
    spec.given([]).when(define({ currency })).thenThrows("VALIDATION", { field: "currency" });
  });

  it.each<[string, number]>([
    ["negative", -1],
    ["fractional", 1.5],
    ["above 1,000,000", 1_000_001],
  ])("refuses an initial stock that is %s", (_, initialStock) => {
    spec.given([]).when(define({ initialStock })).thenThrows("VALIDATION", { field: "initialStock" });
  });
});

describe("ChangePrice", () => {
  it("changes the price and records the previous one", () => {
    spec
      .given([defined(10, 1999)])
      .when(changePrice(2499))
      .then([{ type: "ProductPriceChanged", data: { sku: SKU, priceMinor: 2499, previousPriceMinor: 1999 } }]);
  });

  it("records the latest price as the previous one after earlier changes", () => {
    spec
      .given([defined(10, 1999), { type: "ProductPriceChanged", data: { sku: SKU, priceMinor: 2499, previousPriceMinor: 1999 } }])
      .when(changePrice(999))
      .then([{ type: "ProductPriceChanged", data: { sku: SKU, priceMinor: 999, previousPriceMinor: 2499 } }]);
  });

  it("appends nothing when the price is unchanged", () => {
    spec.given([defined(10, 1999)]).when(changePrice(1999)).then([]);
  });

  // Price 0 is refused (decision 0014): such a product could be ordered but never paid for.
  it("refuses a price of 0 with VALIDATION", () => {
    spec.given([defined(10, 1999)]).when(changePrice(0)).thenThrows("VALIDATION", { field: "priceMinor" });
  });

  it("refuses a product defined at price 0 with VALIDATION", () => {
    spec.given([]).when(define({ priceMinor: 0 })).thenThrows("VALIDATION", { field: "priceMinor" });
  });

  it("refuses a name with a NUL character or an unpaired surrogate with VALIDATION naming it", () => {
    for (const name of ["Tea\u0000", "Tea \uD800", "\uDC00Tea"]) {
      spec.given([]).when(define({ name })).thenThrows("VALIDATION", { field: "name" });
    }
  });

  it("refuses a command type it does not know with VALIDATION, not a crash", () => {
    spec.given([]).when({ type: "Explode", sku: SKU } as unknown as InventoryCommand).thenThrows("VALIDATION", { field: "type" });
  });

  it("accepts the highest price", () => {
    spec
      .given([defined(10, 1999)])
      .when(changePrice(MAX_PRICE))
      .then([{ type: "ProductPriceChanged", data: { sku: SKU, priceMinor: MAX_PRICE, previousPriceMinor: 1999 } }]);
  });

  it("refuses an undefined product with NOT_FOUND", () => {
    spec.given([]).when(changePrice(2499)).thenThrows("NOT_FOUND", { id: SKU });
  });

  it.each<[string, number]>([
    ["negative", -1],
    ["fractional", 1.5],
    ["above 10^10", MAX_PRICE + 1],
  ])("refuses a price that is %s", (_, priceMinor) => {
    spec.given([defined()]).when(changePrice(priceMinor)).thenThrows("VALIDATION", { field: "priceMinor" });
  });

  it("refuses a malformed SKU", () => {
    spec.given([]).when(changePrice(2499, "bad sku")).thenThrows("VALIDATION", { field: "sku" });
  });
});

describe("Restock", () => {
  it("adds units to the available stock", () => {
    spec.given([defined()]).when(restock(5)).then([restocked(5)]);
  });

  it("accepts the largest quantity", () => {
    spec.given([defined()]).when(restock(1_000_000)).then([restocked(1_000_000)]);
  });

  it("accepts filling available stock exactly to 1,000,000,000", () => {
    // 1,000,000 defined + 998 restocks of 1,000,000 = 999,000,000 available.
    spec
      .given([defined(1_000_000), ...repeat(998, restocked(1_000_000))])
      .when(restock(1_000_000))
      .then([restocked(1_000_000)]);
  });

  it("refuses to push available stock past 1,000,000,000", () => {
    spec
      .given([defined(1_000_000), ...repeat(998, restocked(1_000_000)), restocked(999_999)])
      .when(restock(2))
      .thenThrows("VALIDATION", { field: "quantity", value: "2", expected: expect.stringContaining("at most 1 ") });
  });

  it("refuses an undefined product with NOT_FOUND", () => {
    spec.given([]).when(restock(5)).thenThrows("NOT_FOUND", { id: SKU });
  });

  it.each(badQuantities)("refuses a quantity that is %s", (_, quantity) => {
    spec.given([defined()]).when(restock(quantity)).thenThrows("VALIDATION", { field: "quantity" });
  });

  it("refuses a malformed SKU", () => {
    spec.given([]).when(restock(5, "")).thenThrows("VALIDATION", { field: "sku" });
  });
});

describe("ReserveStock", () => {
  it("holds units for an order", () => {
    spec.given([defined(10)]).when(reserve(3)).then([reserved(3)]);
  });

  it("accepts reserving everything that is available", () => {
    spec.given([defined(10)]).when(reserve(10)).then([reserved(10)]);
  });

  it("accepts a 64-character order id", () => {
    const orderId = `${"o".repeat(60)}:1_.`;
    spec.given([defined(10)]).when(reserve(1, orderId)).then([reserved(1, orderId)]);
  });

  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])(
    "treats order id %s as an ordinary order, not an inherited property",
    (orderId) => {
      spec.given([defined(10)]).when(reserve(2, orderId)).then([reserved(2, orderId)]);
    },
  );

  it("refuses more than is available with OUT_OF_STOCK", () => {
    spec.given([defined(10)]).when(reserve(11)).thenThrows("OUT_OF_STOCK", { sku: SKU, requested: 11, available: 10 });
  });

  it("counts units held by other orders as unavailable", () => {
    spec
      .given([defined(10), reserved(8, "order-a")])
      .when(reserve(3, "order-b"))
      .thenThrows("OUT_OF_STOCK", { requested: 3, available: 2 });
  });

  it("can reserve units another order released", () => {
    spec
      .given([defined(10), reserved(10, "order-a"), released(10, "order-a")])
      .when(reserve(10, "order-b"))
      .then([reserved(10, "order-b")]);
  });

  it("cannot reserve units another order committed", () => {
    spec
      .given([defined(10), reserved(10, "order-a"), committed(10, "order-a")])
      .when(reserve(1, "order-b"))
      .thenThrows("OUT_OF_STOCK", { requested: 1, available: 0 });
  });

  it("refuses a second reservation for the same order with RESERVATION_EXISTS", () => {
    spec.given([defined(10), reserved(2)]).when(reserve(1)).thenThrows("RESERVATION_EXISTS", { sku: SKU, orderId: ORDER });
  });

  it("refuses a new reservation for an order whose reservation was released", () => {
    spec
      .given([defined(10), reserved(2), released(2)])
      .when(reserve(1))
      .thenThrows("RESERVATION_EXISTS", { orderId: ORDER, status: "released" });
  });

  it("refuses an undefined product with NOT_FOUND", () => {
    spec.given([]).when(reserve(1)).thenThrows("NOT_FOUND", { id: SKU });
  });

  it.each(badQuantities)("refuses a quantity that is %s", (_, quantity) => {
    spec.given([defined()]).when(reserve(quantity)).thenThrows("VALIDATION", { field: "quantity" });
  });

  it.each(badOrderIds)("refuses an order id that is %s", (_, orderId) => {
    spec.given([defined()]).when(reserve(1, orderId)).thenThrows("VALIDATION", { field: "orderId" });
  });

  it("refuses a malformed SKU", () => {
    spec.given([]).when(reserve(1, ORDER, "a")).thenThrows("VALIDATION", { field: "sku" });
  });
});

describe("ReleaseStock", () => {
  it("returns the order's held units", () => {
    spec.given([defined(10), reserved(3)]).when(release()).then([released(3)]);
  });

  it("releases only the named order's units", () => {
    spec
      .given([defined(10), reserved(3, "order-a"), reserved(4, "order-b")])
      .when(release("order-b"))
      .then([released(4, "order-b")]);
  });

  it("refuses an order without a reservation with RESERVATION_NOT_FOUND", () => {
    spec
      .given([defined(10), reserved(3, "order-a")])
      .when(release("order-b"))
      .thenThrows("RESERVATION_NOT_FOUND", { sku: SKU, orderId: "order-b" });
  });

  it("does not find a reservation for order id constructor through the prototype", () => {
    spec.given([defined(10)]).when(release("constructor")).thenThrows("RESERVATION_NOT_FOUND");
  });

  describe("as a tombstone (the order is being cancelled)", () => {
    const tombstone = (orderId: string): InventoryCommand => ({ type: "ReleaseStock", sku: SKU, orderId, tombstone: true });

    it("records a release of 0 units for an order whose reservation has not arrived, and leaves others alone", () => {
      spec.given([defined(10), reserved(3, "order-a")]).when(tombstone("order-b")).then([released(0, "order-b")]);
    });

    it("releases a held reservation like any release", () => {
      spec.given([defined(10), reserved(3)]).when(tombstone(ORDER)).then([released(3)]);
    });

    it("makes the late reservation fail with RESERVATION_EXISTS", () => {
      spec.given([defined(10), released(0, "order-b")]).when(reserve(2, "order-b")).thenThrows("RESERVATION_EXISTS", { sku: SKU, orderId: "order-b" });
    });

    it("moves no stock: all ten units can still be reserved", () => {
      spec.given([defined(10), released(0, "order-b")]).when(reserve(10, "order-c")).then([reserved(10, "order-c")]);
    });

    it("is refused a second time with RESERVATION_SETTLED", () => {
      spec.given([defined(10), released(0, "order-b")]).when(tombstone("order-b")).thenThrows("RESERVATION_SETTLED");
    });
  });

  it("refuses a second release with RESERVATION_SETTLED", () => {
    spec
      .given([defined(10), reserved(3), released(3)])
      .when(release())
      .thenThrows("RESERVATION_SETTLED", { orderId: ORDER, status: "released" });
  });

  it("refuses to release a committed reservation with RESERVATION_SETTLED", () => {
    spec
      .given([defined(10), reserved(3), committed(3)])
      .when(release())
      .thenThrows("RESERVATION_SETTLED", { orderId: ORDER, status: "committed" });
  });

  it("refuses an undefined product with NOT_FOUND", () => {
    spec.given([]).when(release()).thenThrows("NOT_FOUND", { id: SKU });
  });

  it.each(badOrderIds)("refuses an order id that is %s", (_, orderId) => {
    spec.given([defined(10), reserved(3)]).when(release(orderId)).thenThrows("VALIDATION", { field: "orderId" });
  });

  it("refuses a malformed SKU", () => {
    spec.given([]).when(release(ORDER, "tshirt")).thenThrows("VALIDATION", { field: "sku" });
  });
});

describe("CommitStock", () => {
  it("ships the order's held units", () => {
    spec.given([defined(10), reserved(3)]).when(commit()).then([committed(3)]);
  });

  it("refuses an order without a reservation with RESERVATION_NOT_FOUND", () => {
    spec.given([defined(10)]).when(commit()).thenThrows("RESERVATION_NOT_FOUND", { sku: SKU, orderId: ORDER });
  });

  it("refuses to commit a released reservation with RESERVATION_SETTLED", () => {
    spec
      .given([defined(10), reserved(3), released(3)])
      .when(commit())
      .thenThrows("RESERVATION_SETTLED", { orderId: ORDER, status: "released" });
  });

  it("refuses a second commit with RESERVATION_SETTLED", () => {
    spec
      .given([defined(10), reserved(3), committed(3)])
      .when(commit())
      .thenThrows("RESERVATION_SETTLED", { orderId: ORDER, status: "committed" });
  });

  it("refuses an undefined product with NOT_FOUND", () => {
    spec.given([]).when(commit()).thenThrows("NOT_FOUND", { id: SKU });
  });

  it.each(badOrderIds)("refuses an order id that is %s", (_, orderId) => {
    spec.given([defined(10), reserved(3)]).when(commit(orderId)).thenThrows("VALIDATION", { field: "orderId" });
  });

  it("refuses a malformed SKU", () => {
    spec.given([]).when(commit(ORDER, "-X")).thenThrows("VALIDATION", { field: "sku" });
  });
});

describe("evolve", () => {
  it("folds a realistic history into available and reserved stock", () => {
    const history: InventoryEvent[] = [
      defined(100, 1999),
      reserved(30, "order-a"),
      reserved(20, "order-b"),
      restocked(50),
      committed(30, "order-a"),
      released(20, "order-b"),
      reserved(40, "order-c"),
      { type: "ProductPriceChanged", data: { sku: SKU, priceMinor: 2499, previousPriceMinor: 1999 } },
    ];

    expect(fold(productDecider, history)).toEqual({
      status: "defined",
      sku: SKU,
      name: "Red T-shirt, M",
      priceMinor: 2499,
      currency: "EUR",
      available: 80, // 100 - 30 - 20 + 50 + 20 (released) - 40
      reserved: 40, // only order-c is still held
      reservations: {
        "order-a": { quantity: 30, status: "committed" },
        "order-b": { quantity: 20, status: "released" },
        "order-c": { quantity: 40, status: "held" },
      },
    });
  });

  it("never changes the shared initial state, so every fold starts from the same one", () => {
    fold(productDecider, [defined(10), reserved(3)]);
    expect(productDecider.initialState).toEqual({ status: "absent" });
    expect(Object.isFrozen(productDecider.initialState)).toBe(true);
  });
});

describe("error messages", () => {
  it.each([
    ["OUT_OF_STOCK", inventoryErrors.outOfStock(SKU, 11, 10), [SKU, "11", "10"]],
    ["ALREADY_EXISTS", inventoryErrors.productExists(SKU), [SKU]],
    ["NOT_FOUND", inventoryErrors.productNotFound(SKU), [SKU]],
    ["RESERVATION_EXISTS", inventoryErrors.reservationExists(SKU, ORDER, "held"), [SKU, ORDER]],
    ["RESERVATION_NOT_FOUND", inventoryErrors.reservationNotFound(SKU, ORDER), [SKU, ORDER]],
    ["RESERVATION_SETTLED", inventoryErrors.reservationSettled(SKU, ORDER, "committed"), [SKU, ORDER, "committed"]],
    ["VALIDATION", inventoryErrors.stockLimitExceeded(SKU, 5, 999_999_998, 1_000_000_000), [SKU, "5", "2", "999999998"]],
  ] as const)("%s names what was refused", (code, error, mentions) => {
    expect(error.code).toBe(code);
    for (const text of mentions) expect(error.message).toContain(text);
  });
});
