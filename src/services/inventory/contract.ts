import type { ServiceContract } from "../../platform/aggregate/contract";
import { inventoryCommandSchemas, parseInventoryCommand } from "./commandSchemas";
import type { InventoryCommand } from "./commands";
import { inventoryEventSchemas } from "./events";

/**
 * Inventory's public face: the only file of this folder other services, sagas
 * and projections import. Its name is its queue's and inbox's.
 */
export const INVENTORY = "inventory";

export type { InventoryCommand } from "./commands";
export type { InventoryEvent, InventoryEventType } from "./events";
export { inventoryEventTypes } from "./events";

export const inventoryContract: ServiceContract<typeof INVENTORY, typeof inventoryEventSchemas, InventoryCommand> = {
  name: INVENTORY,
  events: inventoryEventSchemas,
  commands: inventoryCommandSchemas,
  parseCommand: parseInventoryCommand,
};
