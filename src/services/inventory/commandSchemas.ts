import { z } from "zod";
import { checked, commandShape, parseCommand } from "../../platform/aggregate/commandSchema";
import { validCurrency, validId, validInteger, validSku } from "../../platform/aggregate/validation";
import type { InventoryCommand } from "./commands";
import { limits, validName } from "./validation";

const sku = checked((v) => validSku("sku", v));
const orderId = checked((v) => validId("orderId", v));
const integer = (min: number, max: number) => checked((v) => validInteger("value", v, min, max));
const price = integer(limits.minPriceMinor, limits.maxPriceMinor);
const quantity = integer(1, limits.maxQuantity);

/** Inventory's commands, one schema each: parsed at the API edge and where the service takes a job (see platform/aggregate/commandSchema.ts). */
export const inventoryCommandSchemas = {
  DefineProduct: commandShape("DefineProduct", {
    sku,
    name: checked(validName),
    priceMinor: price,
    currency: checked((v) => validCurrency("currency", v)),
    initialStock: integer(0, limits.maxQuantity),
  }),
  ChangePrice: commandShape("ChangePrice", { sku, priceMinor: price }),
  Restock: commandShape("Restock", { sku, quantity }),
  ReserveStock: commandShape("ReserveStock", { sku, orderId, quantity }),
  ReleaseStock: commandShape("ReleaseStock", { sku, orderId, tombstone: z.boolean().optional() }),
  CommitStock: commandShape("CommitStock", { sku, orderId }),
} satisfies Record<InventoryCommand["type"], unknown>;

export function parseInventoryCommand(command: unknown): InventoryCommand {
  return parseCommand(inventoryCommandSchemas, command);
}
