import type { ServiceContract } from "../../platform/aggregate/contract";
import { orderingCommandSchemas, parseOrderingCommand } from "./commandSchemas";
import type { OrderingCommand } from "./commands";
import { orderingEventSchemas } from "./events";

/**
 * Ordering's public face: the only file of this folder other services, sagas
 * and projections import. Its name is its queue's and inbox's.
 */
export const ORDERING = "ordering";

export type { OrderingCommand } from "./commands";
export type { OrderingEvent, OrderingEventType, OrderItem, OrderLine } from "./events";
export { orderingEventTypes } from "./events";

export const orderingContract: ServiceContract<typeof ORDERING, typeof orderingEventSchemas, OrderingCommand> = {
  name: ORDERING,
  events: orderingEventSchemas,
  commands: orderingCommandSchemas,
  parseCommand: parseOrderingCommand,
};
