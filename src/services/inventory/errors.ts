import { DomainError, ErrorCode, NotFoundError, ValidationError } from "../../platform/errors";

/** Refusals specific to Inventory; each code is part of the public API (GraphQL `extensions.code`). */
export const InventoryErrorCode = {
  OUT_OF_STOCK: "OUT_OF_STOCK",
  RESERVATION_EXISTS: "RESERVATION_EXISTS",
  RESERVATION_NOT_FOUND: "RESERVATION_NOT_FOUND",
  RESERVATION_SETTLED: "RESERVATION_SETTLED",
} as const;

export type InventoryErrorCode = (typeof InventoryErrorCode)[keyof typeof InventoryErrorCode];

export const inventoryErrors = {
  outOfStock: (sku: string, requested: number, available: number) =>
    new DomainError(
      InventoryErrorCode.OUT_OF_STOCK,
      `Product ${sku} has ${available} units available; ${requested} were requested`,
      { sku, requested, available },
    ),
  productExists: (sku: string) =>
    new DomainError(ErrorCode.ALREADY_EXISTS, `A product with SKU ${sku} already exists`, { sku }),
  productNotFound: (sku: string): NotFoundError => new NotFoundError("Product", sku),
  reservationExists: (sku: string, orderId: string, status: string) =>
    new DomainError(
      InventoryErrorCode.RESERVATION_EXISTS,
      `Order ${orderId} already has a reservation of ${sku} (${status}); an order reserves a product at most once`,
      { sku, orderId, status },
    ),
  reservationNotFound: (sku: string, orderId: string) =>
    new DomainError(
      InventoryErrorCode.RESERVATION_NOT_FOUND,
      `Order ${orderId} holds no reservation of ${sku}`,
      { sku, orderId },
    ),
  reservationSettled: (sku: string, orderId: string, status: string) =>
    new DomainError(
      InventoryErrorCode.RESERVATION_SETTLED,
      `The reservation of ${sku} for order ${orderId} was already ${status}`,
      { sku, orderId, status },
    ),
  // A VALIDATION error on `quantity`, because what is valid depends on the product's current stock.
  stockLimitExceeded: (sku: string, quantity: number, available: number, maxStock: number) =>
    new ValidationError(
      "quantity",
      quantity,
      `at most ${Math.max(0, maxStock - available)} for ${sku}: ${available} units are available and stock is capped at ${maxStock}`,
    ),
};
