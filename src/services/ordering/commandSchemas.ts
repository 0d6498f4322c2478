import { checked, commandShape, parseCommand } from "../../platform/aggregate/commandSchema";
import { validCurrency, validId, validText } from "../../platform/aggregate/validation";
import type { OrderingCommand } from "./commands";
import { limits, validLines } from "./validation";

const orderId = checked((v) => validId("orderId", v));

/** Ordering's commands, one schema each: parsed at the API edge and where the service takes a job (see platform/aggregate/commandSchema.ts). */
export const orderingCommandSchemas = {
  PlaceOrder: commandShape("PlaceOrder", {
    orderId,
    customerId: checked((v) => validId("customerId", v)),
    lines: checked(validLines),
    currency: checked((v) => validCurrency("currency", v)),
  }),
  ConfirmOrder: commandShape("ConfirmOrder", { orderId }),
  CancelOrder: commandShape("CancelOrder", { orderId, reason: checked((v) => validText("reason", v, limits.maxReasonLength)) }),
  MarkOrderShipped: commandShape("MarkOrderShipped", { orderId }),
} satisfies Record<OrderingCommand["type"], unknown>;

export function parseOrderingCommand(command: unknown): OrderingCommand {
  return parseCommand(orderingCommandSchemas, command);
}
