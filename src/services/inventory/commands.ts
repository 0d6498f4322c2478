/** What callers ask of a product. Imperative names; each may be refused. The SKU routes to the stream. */
export type DefineProduct = {
  type: "DefineProduct";
  sku: string;
  name: string;
  priceMinor: number;
  currency: string;
  initialStock: number;
};
export type ChangePrice = { type: "ChangePrice"; sku: string; priceMinor: number };
export type Restock = { type: "Restock"; sku: string; quantity: number };
export type ReserveStock = { type: "ReserveStock"; sku: string; orderId: string; quantity: number };
/**
 * Gives an order's held units back to available stock. `tombstone`: the order
 * is being cancelled, so if its reservation has not arrived yet (Inventory was
 * slow or down), record the release anyway and refuse that reservation when
 * it comes. Without it, releasing what was never reserved is RESERVATION_NOT_FOUND.
 */
export type ReleaseStock = { type: "ReleaseStock"; sku: string; orderId: string; tombstone?: boolean };
/** The order's held units leave the warehouse for good. */
export type CommitStock = { type: "CommitStock"; sku: string; orderId: string };

export type InventoryCommand = DefineProduct | ChangePrice | Restock | ReserveStock | ReleaseStock | CommitStock;

export type InventoryCommandType = InventoryCommand["type"];
