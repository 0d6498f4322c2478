import { assertNever, type Decider } from "../../platform/aggregate/decider";
import { unknownCommandType } from "../../platform/aggregate/validation";
import { type InventoryCommand } from "./commands";
import { inventoryCommandSchemas } from "./commandSchemas";
import { inventoryErrors } from "./errors";
import type { InventoryEvent } from "./events";
import { limits } from "./validation";

export type ReservationStatus = "held" | "released" | "committed";

export type Reservation = Readonly<{ quantity: number; status: ReservationStatus }>;

export type DefinedProduct = Readonly<{
  status: "defined";
  sku: string;
  name: string;
  priceMinor: number;
  currency: string;
  /** Units that can still be reserved. */
  available: number;
  /** Units held by orders, neither released nor committed yet. */
  reserved: number;
  /** By order id. Settled reservations (and release tombstones) stay, so an order can never reserve or settle twice. */
  reservations: Readonly<Record<string, Reservation>>;
}>;

/** Plain JSON data, so it can be logged, snapshotted or compared as is. */
export type ProductState = Readonly<{ status: "absent" }> | DefinedProduct;

/** One stream per product; the SKU is the natural key, which makes SKUs unique. */
export function productStreamId(sku: string): string {
  return `inventory.product-${sku}`;
}

function defined(state: ProductState, sku: string): DefinedProduct {
  if (state.status === "absent") throw inventoryErrors.productNotFound(sku);
  return state;
}

// Order ids like "constructor" or "__proto__" are valid, so never let a lookup reach Object.prototype.
function reservationOf(state: DefinedProduct, orderId: string): Reservation | undefined {
  return Object.hasOwn(state.reservations, orderId) ? state.reservations[orderId] : undefined;
}

function heldReservation(state: DefinedProduct, orderId: string): Reservation {
  const reservation = reservationOf(state, orderId);
  if (!reservation) throw inventoryErrors.reservationNotFound(state.sku, orderId);
  if (reservation.status !== "held") throw inventoryErrors.reservationSettled(state.sku, orderId, reservation.status);
  return reservation;
}

// Commands arrive parsed against commandSchemas.ts (the service boundary), so only business rules are left here.
function decide(command: InventoryCommand, state: ProductState): InventoryEvent[] {
  const { sku } = command;
  switch (command.type) {
    case "DefineProduct": {
      const { name, priceMinor, currency, initialStock } = command;
      if (state.status !== "absent") throw inventoryErrors.productExists(sku);
      return [{ type: "ProductDefined", data: { sku, name, priceMinor, currency, initialStock } }];
    }
    case "ChangePrice": {
      const { priceMinor } = command;
      const product = defined(state, sku);
      if (priceMinor === product.priceMinor) return [];
      return [{ type: "ProductPriceChanged", data: { sku, priceMinor, previousPriceMinor: product.priceMinor } }];
    }
    case "Restock": {
      const { quantity } = command;
      const product = defined(state, sku);
      if (product.available + quantity > limits.maxStock) {
        throw inventoryErrors.stockLimitExceeded(sku, quantity, product.available, limits.maxStock);
      }
      return [{ type: "StockRestocked", data: { sku, quantity } }];
    }
    case "ReserveStock": {
      const { orderId, quantity } = command;
      const product = defined(state, sku);
      const existing = reservationOf(product, orderId);
      if (existing) throw inventoryErrors.reservationExists(sku, orderId, existing.status);
      if (quantity > product.available) throw inventoryErrors.outOfStock(sku, quantity, product.available);
      return [{ type: "StockReserved", data: { sku, orderId, quantity } }];
    }
    case "ReleaseStock": {
      const { orderId } = command;
      const product = defined(state, sku);
      // Released before it was reserved (the reserve is late or still queued): a tombstone of
      // quantity 0 settles the order, so the late reserve is refused instead of holding stock forever.
      if (command.tombstone === true && !reservationOf(product, orderId)) {
        return [{ type: "StockReservationReleased", data: { sku, orderId, quantity: 0 } }];
      }
      const { quantity } = heldReservation(product, orderId);
      return [{ type: "StockReservationReleased", data: { sku, orderId, quantity } }];
    }
    case "CommitStock": {
      const { orderId } = command;
      const { quantity } = heldReservation(defined(state, sku), orderId);
      return [{ type: "StockReservationCommitted", data: { sku, orderId, quantity } }];
    }
    default:
      return unknownCommandType(command, Object.keys(inventoryCommandSchemas));
  }
}

/** What evolve may change: the fold owns the state it updates (see Decider.evolve). */
type Draft = { -readonly [K in keyof DefinedProduct]: DefinedProduct[K] } & { reservations: Record<string, Reservation> };

// An own property, as an object literal would make: assigning would call Object.prototype's
// `__proto__` setter for order id "__proto__" instead of recording a reservation.
function setReservation(product: Draft, orderId: string, reservation: Reservation): void {
  Object.defineProperty(product.reservations, orderId, { value: reservation, enumerable: true, writable: true, configurable: true });
}

function settle(product: Draft, orderId: string, status: ReservationStatus): void {
  const reservation = reservationOf(product, orderId) ?? { quantity: 0 }; // none: a release tombstone
  setReservation(product, orderId, { ...reservation, status });
}

// Events are facts already accepted by `decide`; evolve applies them and never refuses one.
// It updates the state in place, so an event costs the same on a product with 10,000 reservations as on a new one.
function evolve(state: ProductState, event: InventoryEvent): ProductState {
  if (event.type === "ProductDefined") {
    const { sku, name, priceMinor, currency, initialStock } = event.data;
    return { status: "defined", sku, name, priceMinor, currency, available: initialStock, reserved: 0, reservations: {} };
  }
  if (state.status === "absent") return state;
  const product = state as Draft;
  switch (event.type) {
    case "ProductPriceChanged":
      product.priceMinor = event.data.priceMinor;
      return product;
    case "StockRestocked":
      product.available += event.data.quantity;
      return product;
    case "StockReserved": {
      const { orderId, quantity } = event.data;
      product.available -= quantity;
      product.reserved += quantity;
      setReservation(product, orderId, { quantity, status: "held" });
      return product;
    }
    case "StockReservationReleased":
      product.available += event.data.quantity;
      product.reserved -= event.data.quantity;
      settle(product, event.data.orderId, "released");
      return product;
    case "StockReservationCommitted":
      product.reserved -= event.data.quantity;
      settle(product, event.data.orderId, "committed");
      return product;
    default:
      return assertNever(event);
  }
}

export const productDecider: Decider<InventoryCommand, InventoryEvent, ProductState> = {
  initialState: Object.freeze({ status: "absent" }),
  stateVersion: "inventory.product@1",
  decide,
  evolve,
};
