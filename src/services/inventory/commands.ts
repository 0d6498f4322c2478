/** What callers ask of a product. Imperative names; each may be refused. */
export type InventoryCommand =
  | { type: "DefineProduct"; sku: string; name: string; priceMinor: number; currency: string; initialStock: number }
  | { type: "ChangePrice"; sku: string; priceMinor: number }
  | { type: "Restock"; sku: string; quantity: number }
  | { type: "ReserveStock"; sku: string; orderId: string; quantity: number }
  | { type: "ReleaseStock"; sku: string; orderId: string }
  | { type: "CommitStock"; sku: string; orderId: string };
