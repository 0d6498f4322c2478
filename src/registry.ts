import "reflect-metadata"; // decorated GraphQL classes below need the metadata API loaded first
import type { ServiceDefinition } from "./platform/service";
import { inventoryService } from "./services/inventory/service";
import { orderingService } from "./services/ordering/service";
import { paymentsService } from "./services/payments/service";

/** Every bounded context of the system. Adding one is one line here. */
export const services: readonly ServiceDefinition[] = [inventoryService, orderingService, paymentsService];
