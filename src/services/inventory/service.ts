import { productsProjection } from "../../../projections/products";
import { CommandHandler } from "../../platform/aggregate/commandHandler";
import type { ServiceDefinition } from "../../platform/service";
import { inventoryErrorCatalogue } from "./errors";
import { inventoryEventSchemas } from "./events";
import type { InventoryCommand } from "./commands";
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
      const c = command as InventoryCommand;
      return handler.handle(productStreamId(c.sku), c, context);
    };
  },
};
