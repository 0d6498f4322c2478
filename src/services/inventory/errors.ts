import { DomainError, ErrorCode } from "../../platform/errors";

/** Refusals of the Inventory context; each code is part of the public API. */
export const InventoryErrorCode = {
  OUT_OF_STOCK: "OUT_OF_STOCK",
  RESERVATION_EXISTS: "RESERVATION_EXISTS",
  RESERVATION_NOT_FOUND: "RESERVATION_NOT_FOUND",
  RESERVATION_SETTLED: "RESERVATION_SETTLED",
} as const;

export const inventoryErrors = {
  outOfStock: (sku: string, requested: number, available: number) =>
    new DomainError(
      InventoryErrorCode.OUT_OF_STOCK,
      `Product ${sku} has ${available} units available; ${requested} were requested`,
      { sku, requested, available },
    ),
  productExists: (sku: string) =>
    new DomainError(ErrorCode.ALREADY_EXISTS, `A product with SKU ${sku} already exists`, { sku }),
  productNotFound: (sku: string) =>
    new DomainError(ErrorCode.NOT_FOUND, `No product with SKU ${sku} exists`, { what: "product", id: sku }),
  reservationExists: (sku: string, orderId: string) =>
    new DomainError(
      InventoryErrorCode.RESERVATION_EXISTS,
      `Order ${orderId} already holds a reservation of ${sku}`,
      { sku, orderId },
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
};
