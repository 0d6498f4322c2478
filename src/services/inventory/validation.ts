import { validText } from "../../platform/aggregate/validation";

/** Input rules of the Inventory context; the generic ones (SKU, currency, integers) are in platform/aggregate/validation.ts. */
export const limits = {
  /** At least 1: a product priced 0 could be ordered but never paid for (payments authorize 1 or more). */
  minPriceMinor: 1,
  maxPriceMinor: 10_000_000_000,
  maxQuantity: 1_000_000,
  maxStock: 1_000_000_000,
  maxNameLength: 120,
} as const;

export function validName(name: unknown): string {
  return validText("name", name, limits.maxNameLength);
}
