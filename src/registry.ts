import "reflect-metadata"; // decorated GraphQL classes below need the metadata API loaded first
import { eventRegistryOf } from "./platform/runtime/eventCatalog";
import type { EventRegistry } from "./platform/eventstore/eventRegistry";
import { processRoles } from "./platform/runtime/composition";
import type { ServiceDefinition } from "./platform/runtime/service";
import { inventoryService } from "./services/inventory/service";
import { orderingService } from "./services/ordering/service";
import { paymentsService } from "./services/payments/service";

/**
 * Every bounded context of the system. Adding one is one line here: its
 * role, queue, reactors, read models and GraphQL types follow from it, and so
 * do the lists below.
 */
export const services: readonly ServiceDefinition[] = [inventoryService, orderingService, paymentsService];

/** The roles a deployment runs, one process each: docker/compose.yml (checked by a test), the chaos suite and benchmarks start these. */
export const deployedRoles: readonly string[] = processRoles(services);

/** Every event type the system appends, with its schemas and upcasters. */
export const eventRegistry: EventRegistry = eventRegistryOf(services);
