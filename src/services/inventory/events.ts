import { z } from "zod";
import { eventType, type EventsOf, typesOf } from "../../platform/eventstore/eventSchemas";

const int = () => z.number().int();

/**
 * Facts about a product, past tense. Their shapes are a contract with every
 * reader of the log: committed as JSON Schemas under schema/events/inventory/,
 * and a changed shape is a new version with an upcaster (see README, Events that evolve).
 */
export const inventoryEventSchemas = {
  ProductDefined: eventType(
    z.object({ sku: z.string(), name: z.string(), priceMinor: int(), currency: z.string(), initialStock: int() }),
  ),
  ProductPriceChanged: eventType(z.object({ sku: z.string(), priceMinor: int(), previousPriceMinor: int() })),
  StockRestocked: eventType(z.object({ sku: z.string(), quantity: int() })),
  StockReserved: eventType(z.object({ sku: z.string(), orderId: z.string(), quantity: int() })),
  /** `quantity: 0` is a tombstone: released before any reservation, so a late reserve is refused. */
  StockReservationReleased: eventType(z.object({ sku: z.string(), orderId: z.string(), quantity: int() })),
  StockReservationCommitted: eventType(z.object({ sku: z.string(), orderId: z.string(), quantity: int() })),
};

export type InventoryEvent = EventsOf<typeof inventoryEventSchemas>;

export type InventoryEventType = InventoryEvent["type"];

/** Every type has a schema, so projections subscribing to this list never silently miss one. */
export const inventoryEventTypes: readonly InventoryEventType[] = typesOf(inventoryEventSchemas);
