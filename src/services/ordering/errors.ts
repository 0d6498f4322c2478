import { DomainError, ErrorCode, NotFoundError } from "../../platform/errors";

/** Refusals specific to Ordering; each code is part of the public API (GraphQL `extensions.code`). */
export const OrderingErrorCode = {
  INVALID_TRANSITION: "INVALID_TRANSITION",
} as const;

export type OrderingErrorCode = (typeof OrderingErrorCode)[keyof typeof OrderingErrorCode];

export type OrderTransitionTarget = "CONFIRMED" | "CANCELLED" | "SHIPPED";

export const orderingErrors = {
  orderExists: (orderId: string) =>
    new DomainError(ErrorCode.ALREADY_EXISTS, `An order with id ${orderId} already exists`, { orderId }),
  orderNotFound: (orderId: string): NotFoundError => new NotFoundError("Order", orderId),
  invalidTransition: (orderId: string, from: string, to: OrderTransitionTarget) =>
    new DomainError(
      OrderingErrorCode.INVALID_TRANSITION,
      `Order ${orderId} is ${from} and cannot become ${to}`,
      { orderId, from, to },
    ),
};
