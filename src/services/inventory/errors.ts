import { codesOf, type ErrorCatalogue } from "../../platform/core/errorCatalogue";
import { DomainError, ErrorCode, NotFoundError, ValidationError } from "../../platform/core/errors";

/** Refusals specific to Inventory; each code is part of the public API (GraphQL `extensions.code`, docs/errors.md). */
export const inventoryErrorCatalogue = {
  OUT_OF_STOCK: {
    meaning: "Fewer units are available than the reservation asks for; nothing was reserved.",
    details: { sku: "The product.", requested: "Units asked for.", available: "Units available when the command was decided." },
    retryable: false,
    advice: "Reserve at most `available` units, or wait for a restock.",
  },
  RESERVATION_EXISTS: {
    meaning: "The order already has a reservation of this product; an order reserves a product at most once.",
    details: { sku: "The product.", orderId: "The order.", status: "The existing reservation's status." },
    retryable: false,
    advice: "Release the existing reservation first, or resend the first command with its commandId to get its result.",
  },
  RESERVATION_NOT_FOUND: {
    meaning: "The order holds no reservation of this product to commit or release.",
    details: { sku: "The product.", orderId: "The order." },
    retryable: false,
    advice: "Check the order and SKU.",
  },
  RESERVATION_SETTLED: {
    meaning: "The reservation was already committed or released; it cannot change again.",
    details: { sku: "The product.", orderId: "The order.", status: "How it was settled." },
    retryable: false,
    advice: "Nothing to do: the reservation is final.",
  },
} as const satisfies ErrorCatalogue;

export const InventoryErrorCode = codesOf(inventoryErrorCatalogue);

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
