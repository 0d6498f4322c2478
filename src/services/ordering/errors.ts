import { codesOf, type ErrorCatalogue } from "../../platform/core/errorCatalogue";
import { DomainError, ErrorCode, NotFoundError } from "../../platform/core/errors";

/**
 * Codes specific to Ordering. Its refusals are the platform's (ALREADY_EXISTS, NOT_FOUND,
 * INVALID_TRANSITION); its checkout saga records one more on a failed step.
 */
export const orderingErrorCatalogue = {
  PAYMENT_DECLINED: {
    meaning:
      "The checkout saga's `authorize` step: the account cannot cover the order. Not a GraphQL error: it is the step's code in `Saga.steps` and `Saga.lastError`; the saga releases the stock and cancels the order (reason `payment declined`).",
    details: {},
    retryable: false,
    advice: "Add funds (addFunds) and place a new order.",
  },
} as const satisfies ErrorCatalogue;

export const OrderingErrorCode = codesOf(orderingErrorCatalogue);

export type OrderTransitionTarget = "CONFIRMED" | "CANCELLED" | "SHIPPED";

export const orderingErrors = {
  orderExists: (orderId: string) =>
    new DomainError(ErrorCode.ALREADY_EXISTS, `An order with id ${orderId} already exists`, { orderId }),
  orderNotFound: (orderId: string): NotFoundError => new NotFoundError("Order", orderId),
  invalidTransition: (orderId: string, from: string, to: OrderTransitionTarget) =>
    new DomainError(
      ErrorCode.INVALID_TRANSITION,
      `Order ${orderId} is ${from} and cannot become ${to}`,
      { orderId, from, to },
    ),
};
