import { z } from "zod";
import { eventType, type EventsOf, typesOf } from "../../platform/eventstore/eventSchemas";

const int = () => z.number().int();

const paymentDeclinedV1 = z.object({ customerId: z.string(), orderId: z.string(), amountMinor: int(), availableMinor: int() });

/**
 * Facts about a customer's account, past tense. Their shapes are a contract
 * with every reader of the log (decision 0001): committed as JSON Schemas under
 * schema/events/payments/, and a changed shape is a new version with an upcaster.
 */
export const paymentsEventSchemas = {
  AccountOpened: eventType(z.object({ customerId: z.string(), currency: z.string(), initialBalanceMinor: int() })),
  FundsAdded: eventType(z.object({ customerId: z.string(), amountMinor: int() })),
  PaymentAuthorized: eventType(z.object({ customerId: z.string(), orderId: z.string(), amountMinor: int() })),
  /**
   * An outcome, not an error: it is kept in the account's history and changes no balance.
   * v2 adds `shortfallMinor`, what the customer lacked; v1 events carry what it is derived from.
   */
  PaymentDeclined: eventType(paymentDeclinedV1).then(
    paymentDeclinedV1.extend({ shortfallMinor: int().positive() }),
    (v1) => ({ ...v1, shortfallMinor: v1.amountMinor - v1.availableMinor }),
  ),
  PaymentCaptured: eventType(z.object({ customerId: z.string(), orderId: z.string(), amountMinor: int() })),
  /** `amountMinor: 0` is a tombstone: voided before any authorization, so a late authorization is refused. */
  PaymentVoided: eventType(z.object({ customerId: z.string(), orderId: z.string(), amountMinor: int(), reason: z.string() })),
  PaymentRefunded: eventType(z.object({ customerId: z.string(), orderId: z.string(), amountMinor: int() })),
};

export type PaymentsEvent = EventsOf<typeof paymentsEventSchemas>;

export type PaymentsEventType = PaymentsEvent["type"];

/** Every type has a schema, so projections and sagas subscribing to this list never silently miss one. */
export const paymentsEventTypes: readonly PaymentsEventType[] = typesOf(paymentsEventSchemas);
