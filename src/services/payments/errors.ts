import { codesOf, type ErrorCatalogue } from "../../platform/core/errorCatalogue";
import { DomainError, ErrorCode, NotFoundError, ValidationError } from "../../platform/core/errors";
import type { PaymentStatus } from "./paymentStatus";

/** Refusals specific to Payments; each code is part of the public API (GraphQL `extensions.code`, docs/errors.md). */
export const paymentsErrorCatalogue = {
  PAYMENT_EXISTS: {
    meaning: "The order already has a payment on this account; an order is authorized at most once.",
    details: { customerId: "The account.", orderId: "The order.", status: "The existing payment's status." },
    retryable: false,
    advice: "Read the account's payments; resend the first command with its commandId to get its result.",
  },
} as const satisfies ErrorCatalogue;

export const PaymentsErrorCode = codesOf(paymentsErrorCatalogue);

export type PaymentsErrorCode = (typeof PaymentsErrorCode)[keyof typeof PaymentsErrorCode];

/** What a capture, void or refund would move the payment to; `from` is "NONE" when the order has no payment. */
export type PaymentTransitionTarget = "CAPTURED" | "VOIDED" | "REFUNDED";

export const paymentsErrors = {
  accountExists: (customerId: string) =>
    new DomainError(ErrorCode.ALREADY_EXISTS, `Customer ${customerId} already has an account`, { customerId }),
  accountNotFound: (customerId: string): NotFoundError => new NotFoundError("Account", customerId),
  paymentExists: (customerId: string, orderId: string, status: PaymentStatus) =>
    new DomainError(
      PaymentsErrorCode.PAYMENT_EXISTS,
      `Order ${orderId} already has a payment on account ${customerId} (${status}); an order is authorized at most once`,
      { customerId, orderId, status },
    ),
  invalidTransition: (customerId: string, orderId: string, from: PaymentStatus | "NONE", to: PaymentTransitionTarget) =>
    new DomainError(
      ErrorCode.INVALID_TRANSITION,
      from === "NONE"
        ? `Order ${orderId} has no payment on account ${customerId}, so it cannot become ${to}`
        : `The payment of order ${orderId} on account ${customerId} is ${from} and cannot become ${to}`,
      { customerId, orderId, from, to },
    ),
  // A VALIDATION error on `amountMinor`, because what is valid depends on the account's current balance.
  balanceLimitExceeded: (customerId: string, amountMinor: number, balanceMinor: number, maxBalanceMinor: number) =>
    new ValidationError(
      "amountMinor",
      amountMinor,
      `at most ${Math.max(0, maxBalanceMinor - balanceMinor)} for account ${customerId}: it holds ${balanceMinor} in total and balances are capped at ${maxBalanceMinor}`,
    ),
};
