import type { DomainEvent } from "../../platform/eventstore/types";

/** Facts about a customer's account, past tense. Their shapes are a contract with every reader of the log (decision 0001). */
export type AccountOpened = DomainEvent<
  "AccountOpened",
  { customerId: string; currency: string; initialBalanceMinor: number }
>;
export type FundsAdded = DomainEvent<"FundsAdded", { customerId: string; amountMinor: number }>;
export type PaymentAuthorized = DomainEvent<
  "PaymentAuthorized",
  { customerId: string; orderId: string; amountMinor: number }
>;
/** An outcome, not an error: it is kept in the account's history and changes no balance. */
export type PaymentDeclined = DomainEvent<
  "PaymentDeclined",
  { customerId: string; orderId: string; amountMinor: number; availableMinor: number }
>;
export type PaymentCaptured = DomainEvent<"PaymentCaptured", { customerId: string; orderId: string; amountMinor: number }>;
/** `amountMinor: 0` is a tombstone: voided before any authorization, so a late authorization is refused. */
export type PaymentVoided = DomainEvent<
  "PaymentVoided",
  { customerId: string; orderId: string; amountMinor: number; reason: string }
>;
export type PaymentRefunded = DomainEvent<"PaymentRefunded", { customerId: string; orderId: string; amountMinor: number }>;

export type PaymentsEvent =
  | AccountOpened
  | FundsAdded
  | PaymentAuthorized
  | PaymentDeclined
  | PaymentCaptured
  | PaymentVoided
  | PaymentRefunded;

export type PaymentsEventType = PaymentsEvent["type"];

// A record keyed by the union makes a new event type a compile error here until it is listed,
// so projections and sagas subscribing to `paymentsEventTypes` never silently miss one.
const eventTypeSet: Readonly<Record<PaymentsEventType, true>> = {
  AccountOpened: true,
  FundsAdded: true,
  PaymentAuthorized: true,
  PaymentDeclined: true,
  PaymentCaptured: true,
  PaymentVoided: true,
  PaymentRefunded: true,
};

export const paymentsEventTypes: readonly PaymentsEventType[] = Object.freeze(
  Object.keys(eventTypeSet) as PaymentsEventType[],
);
