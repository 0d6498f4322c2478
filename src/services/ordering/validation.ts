import { ValidationError } from "../../platform/core/errors";
import { validArray, validInteger, validObject, validSku } from "../../platform/aggregate/validation";
import type { OrderLineInput } from "./commands";

/** Input rules of the Ordering context (decision 0001). */
export const limits = {
  maxLines: 50,
  maxQuantity: 1000,
  /** Catalog prices are 1 or more; an older product priced 0 is refused here rather than failing at payment. */
  minUnitPriceMinor: 1,
  maxUnitPriceMinor: 10_000_000_000,
  maxReasonLength: 500,
} as const;

/** 1-50 lines, each SKU at most once; a refusal names the line, e.g. `lines[2].quantity`. */
export function validLines(value: unknown): OrderLineInput[] {
  const items = validArray("lines", value, 1, limits.maxLines);
  const firstLineOf = new Map<string, number>();
  return items.map((item, index) => {
    const field = `lines[${index}]`;
    const line = validObject(field, item);
    const sku = validSku(`${field}.sku`, line.sku);
    const earlier = firstLineOf.get(sku);
    if (earlier !== undefined) {
      throw new ValidationError(`${field}.sku`, sku, `a SKU not already ordered in lines[${earlier}] (one line per SKU)`);
    }
    firstLineOf.set(sku, index);
    return {
      sku,
      quantity: validInteger(`${field}.quantity`, line.quantity, 1, limits.maxQuantity),
      unitPriceMinor: validInteger(`${field}.unitPriceMinor`, line.unitPriceMinor, limits.minUnitPriceMinor, limits.maxUnitPriceMinor),
    };
  });
}
