import { productsProjection } from "../../../projections/inventory/products/projection";
import { commandExecutor } from "../../platform/bus/commandExecutor";
import type { ServiceDefinition } from "../../platform/runtime/service";
import { inventoryErrorCatalogue } from "./errors";
import { INVENTORY, inventoryContract } from "./contract";
import { productDecider, productStreamId } from "./decider";
import { orderStockReactor } from "./reactions";
import { InventoryMutations, InventoryQueries, ProductFields, InventorySubscriptions, productNode } from "./resolvers";

/** Inventory owns the product streams: catalog, prices and stock. */
export const inventoryService: ServiceDefinition = {
  name: INVENTORY,
  events: inventoryContract.events,
  projections: [productsProjection],
  resolvers: [InventoryQueries, ProductFields, InventoryMutations, InventorySubscriptions],
  errors: inventoryErrorCatalogue,
  nodes: [productNode],
  reactors: [orderStockReactor],
  createExecutor: (deps) => commandExecutor(deps, { decider: productDecider, parse: inventoryContract.parseCommand, streamOf: (c) => productStreamId(c.sku) }),
};
