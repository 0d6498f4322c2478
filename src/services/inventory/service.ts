import { productsProjection } from "../../../projections/inventory/products/projection";
import { CommandHandler } from "../../platform/aggregate/commandHandler";
import type { ServiceDefinition } from "../../platform/service";
import { inventoryErrorCatalogue } from "./errors";
import { inventoryEventSchemas } from "./events";
import { parseInventoryCommand } from "./commandSchemas";
import { productDecider, productStreamId } from "./decider";
import { orderStockReactor } from "./reactions";
import { InventoryMutations, InventoryQueries, ProductFields, InventorySubscriptions, productNode } from "./resolvers";

/** Inventory owns the product streams: catalog, prices and stock. */
export const inventoryService: ServiceDefinition = {
  name: "inventory",
  events: inventoryEventSchemas,
  projections: [productsProjection],
  resolvers: [InventoryQueries, ProductFields, InventoryMutations, InventorySubscriptions],
  errors: inventoryErrorCatalogue,
  nodes: [productNode],
  reactors: [orderStockReactor],
  createExecutor({ store, handlerOptions }) {
    const handler = new CommandHandler(store, productDecider, handlerOptions);
    return (command, context) => {
      // Parsed, not cast: a malformed or forged job is a VALIDATION refusal, answered once and never retried.
      const c = parseInventoryCommand(command);
      return handler.handle(productStreamId(c.sku), c, context);
    };
  },
};
