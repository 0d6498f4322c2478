import { checked, commandShape, parseCommand } from "../../platform/aggregate/commandSchema";
import { validCurrency, validId, validText } from "../../platform/aggregate/validation";
import type { PaymentsCommand } from "./commands";
import { limits, validAmount } from "./validation";

const customerId = checked((v) => validId("customerId", v));
const orderId = checked((v) => validId("orderId", v));
const amount = checked((v) => validAmount("amountMinor", v));

/** Payments' commands, one schema each: parsed at the API edge and where the service takes a job (see platform/aggregate/commandSchema.ts). */
export const paymentsCommandSchemas = {
  OpenAccount: commandShape("OpenAccount", {
    customerId,
    currency: checked((v) => validCurrency("currency", v)),
    initialBalanceMinor: checked((v) => validAmount("initialBalanceMinor", v, 0)),
  }),
  AddFunds: commandShape("AddFunds", { customerId, amountMinor: amount }),
  AuthorizePayment: commandShape("AuthorizePayment", { customerId, orderId, amountMinor: amount }),
  CapturePayment: commandShape("CapturePayment", { customerId, orderId }),
  VoidPayment: commandShape("VoidPayment", { customerId, orderId, reason: checked((v) => validText("reason", v, limits.maxReasonLength)) }),
  RefundPayment: commandShape("RefundPayment", { customerId, orderId }),
} satisfies Record<PaymentsCommand["type"], unknown>;

export function parsePaymentsCommand(command: unknown): PaymentsCommand {
  return parseCommand(paymentsCommandSchemas, command);
}
