import { isDeepStrictEqual } from "node:util";
import { fold, type Decider } from "../platform/aggregate/decider";
import type { DomainEvent } from "../platform/eventstore/types";
import { productDecider } from "./inventory/decider";
import type { InventoryEvent } from "./inventory/events";
import { orderDecider } from "./ordering/decider";
import type { OrderingEvent } from "./ordering/events";
import { accountDecider } from "./payments/decider";
import type { PaymentsEvent } from "./payments/events";

/**
 * evolve must cost the same per event however long the stream is (see
 * Decider.evolve and docs/decisions/0016-hot-streams.md). No timing: the seam
 * is a Proxy around the state's per-order map that counts every time
 * something enumerates it or reads a key other than the event's own. A copy
 * (`{ ...map }`, Object.assign, structuredClone, Object.entries) enumerates
 * all of them; an update in place touches only the order the event names.
 */
const SKU = "HOT-001";
const CUSTOMER = "customer-1";
const N = 1000;

interface Touches {
  enumerations: number;
  otherKeys: number;
}

/** Wraps `map` so that enumerating it, or reading any key but `own`, is counted. */
function countingMap<T extends object>(map: T, own: () => string): { map: T; touches: Touches } {
  const touches: Touches = { enumerations: 0, otherKeys: 0 };
  const map2 = new Proxy(map, {
    ownKeys(target) {
      touches.enumerations++;
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      if (key !== own()) touches.otherKeys++;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    get(target, key, receiver) {
      if (key !== own()) touches.otherKeys++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { map: map2, touches };
}

/** Folds `history`, swaps the map under `field` for a counting proxy, then evolves each of `next`. */
function touchesOf<E extends DomainEvent, S extends object>(
  decider: Decider<unknown, E, S>,
  field: string,
  history: E[],
  next: Array<{ event: E; orderId: string }>,
): { touches: Touches; before: S; after: S } {
  const before = fold(decider, history);
  let current = "";
  const wrapped = countingMap(Reflect.get(before, field) as object, () => current);
  Reflect.set(before, field, wrapped.map);
  let state = before;
  for (const { event, orderId } of next) {
    current = orderId;
    state = decider.evolve(state, event);
  }
  return { touches: wrapped.touches, before, after: state };
}

const reserved = (orderId: string, quantity = 1): InventoryEvent => ({ type: "StockReserved", data: { sku: SKU, orderId, quantity } });
const productHistory: InventoryEvent[] = [
  { type: "ProductDefined", data: { sku: SKU, name: "Hot", priceMinor: 100, currency: "EUR", initialStock: 100_000 } },
  ...Array.from({ length: N }, (_, i) => reserved(`order-${i}`)),
];

const authorized = (orderId: string): PaymentsEvent => ({ type: "PaymentAuthorized", data: { customerId: CUSTOMER, orderId, amountMinor: 1 } });
const accountHistory: PaymentsEvent[] = [
  { type: "AccountOpened", data: { customerId: CUSTOMER, currency: "EUR", initialBalanceMinor: 1_000_000 } },
  ...Array.from({ length: N }, (_, i) => authorized(`order-${i}`)),
];

describe("productDecider.evolve costs the same per event on a long stream", () => {
  it.each<[string, InventoryEvent]>([
    ["StockReserved", reserved("order-new", 2)],
    ["StockReservationReleased", { type: "StockReservationReleased", data: { sku: SKU, orderId: "order-7", quantity: 1 } }],
    ["StockReservationCommitted", { type: "StockReservationCommitted", data: { sku: SKU, orderId: "order-7", quantity: 1 } }],
    ["a release tombstone", { type: "StockReservationReleased", data: { sku: SKU, orderId: "order-late", quantity: 0 } }],
    ["StockRestocked", { type: "StockRestocked", data: { sku: SKU, quantity: 5 } }],
  ])("%s neither copies nor scans the reservations", (_, event) => {
    const orderId = "orderId" in event.data ? event.data.orderId : "";
    const { touches, before, after } = touchesOf(productDecider, "reservations", productHistory, [{ event, orderId }]);
    expect(touches).toEqual({ enumerations: 0, otherKeys: 0 });
    expect(after).toBe(before); // updated in place: the fold owns its state
  });

  it("updated in place, the state still equals a fresh fold and its JSON round trip (what a snapshot needs)", () => {
    const extra = [reserved("__proto__"), reserved("constructor")];
    const inPlace = touchesOf(productDecider, "reservations", productHistory, []).before;
    let state = inPlace;
    for (const event of extra) state = productDecider.evolve(state, event);
    const fresh = fold(productDecider, [...productHistory, ...extra]);
    expect(isDeepStrictEqual(JSON.parse(JSON.stringify(fresh)), fresh)).toBe(true);
    expect(fresh.status === "defined" && Object.hasOwn(fresh.reservations, "__proto__")).toBe(true);
    expect(fresh.status === "defined" && Object.getPrototypeOf(fresh.reservations)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(state))).toEqual(JSON.parse(JSON.stringify(fresh)));
  });
});

describe("accountDecider.evolve costs the same per event on a long stream", () => {
  const event = (type: "PaymentCaptured" | "PaymentVoided" | "PaymentDeclined", orderId: string): PaymentsEvent =>
    type === "PaymentDeclined"
      ? { type, data: { customerId: CUSTOMER, orderId, amountMinor: 1, availableMinor: 0, shortfallMinor: 1 } }
      : type === "PaymentVoided"
        ? { type, data: { customerId: CUSTOMER, orderId, amountMinor: 1, reason: "r" } }
        : { type, data: { customerId: CUSTOMER, orderId, amountMinor: 1 } };

  it.each<[string, PaymentsEvent, string]>([
    ["PaymentAuthorized", authorized("order-new"), "order-new"],
    ["PaymentCaptured", event("PaymentCaptured", "order-3"), "order-3"],
    ["PaymentVoided", event("PaymentVoided", "order-4"), "order-4"],
    ["PaymentDeclined", event("PaymentDeclined", "order-new"), "order-new"],
    ["PaymentRefunded", { type: "PaymentRefunded", data: { customerId: CUSTOMER, orderId: "order-5", amountMinor: 1 } }, "order-5"],
    ["FundsAdded", { type: "FundsAdded", data: { customerId: CUSTOMER, amountMinor: 5 } }, ""],
  ])("%s neither copies nor scans the payments", (_, e, orderId) => {
    const { touches, before, after } = touchesOf(accountDecider, "payments", accountHistory, [{ event: e, orderId }]);
    expect(touches).toEqual({ enumerations: 0, otherKeys: 0 });
    expect(after).toBe(before);
  });
});

describe("orderDecider.evolve", () => {
  it("keeps no map that grows with the stream: an order's lines are set once, by OrderPlaced", () => {
    const placed: OrderingEvent = {
      type: "OrderPlaced",
      data: { orderId: "o-1", customerId: CUSTOMER, lines: [{ sku: SKU, quantity: 1, unitPriceMinor: 1, lineTotalMinor: 1 }], totalMinor: 1, currency: "EUR" },
    };
    const { touches } = touchesOf(orderDecider, "lines", [placed], [
      { event: { type: "OrderConfirmed", data: { orderId: "o-1", customerId: CUSTOMER } }, orderId: "" },
      { event: { type: "OrderShipped", data: { orderId: "o-1", customerId: CUSTOMER, lines: [{ sku: SKU, quantity: 1 }] } }, orderId: "" },
    ]);
    expect(touches).toEqual({ enumerations: 0, otherKeys: 0 });
  });
});
