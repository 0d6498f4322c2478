import { z } from "zod";
import { eventType, type EventsOf, typesOf } from "../../platform/eventstore/eventSchemas";

const int = () => z.number().int();

const orderLine = z.object({ sku: z.string(), quantity: int(), unitPriceMinor: int(), lineTotalMinor: int() });
const orderItem = z.object({ sku: z.string(), quantity: int() });

/** A priced line as placed: `lineTotalMinor` is `quantity * unitPriceMinor`. */
export type OrderLine = z.output<typeof orderLine>;
/** What a line asks of the warehouse, carried by cancellation and shipping so their readers need nothing else. */
export type OrderItem = z.output<typeof orderItem>;

/**
 * Facts about an order, past tense. Their shapes are a contract with every
 * reader of the log (decision 0001): committed as JSON Schemas under
 * schema/events/ordering/, and a changed shape is a new version with an upcaster.
 */
export const orderingEventSchemas = {
  OrderPlaced: eventType(
    z.object({ orderId: z.string(), customerId: z.string(), lines: z.array(orderLine), totalMinor: int(), currency: z.string() }),
  ),
  OrderConfirmed: eventType(z.object({ orderId: z.string(), customerId: z.string() })),
  OrderCancelled: eventType(
    z.object({
      orderId: z.string(),
      customerId: z.string(),
      reason: z.string(),
      previousStatus: z.enum(["PENDING", "CONFIRMED"]),
      lines: z.array(orderItem),
    }),
  ),
  OrderShipped: eventType(z.object({ orderId: z.string(), customerId: z.string(), lines: z.array(orderItem) })),
};

export type OrderingEvent = EventsOf<typeof orderingEventSchemas>;

export type OrderingEventType = OrderingEvent["type"];

/** Every type has a schema, so projections and sagas subscribing to this list never silently miss one. */
export const orderingEventTypes: readonly OrderingEventType[] = typesOf(orderingEventSchemas);
