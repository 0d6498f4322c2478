import { EventRegistry } from "../eventstore/eventRegistry";
import { SAGA_EVENTS_OWNER, sagaEventSchemas } from "../saga/sagaEvents";
import type { ServiceDefinition } from "./service";

/** Every event type the system appends: each service's, and the saga runner's own. */
export function eventRegistryOf(services: readonly Pick<ServiceDefinition, "name" | "events">[]): EventRegistry {
  return new EventRegistry([
    ...services.map((s) => ({ name: s.name, events: s.events })),
    { name: SAGA_EVENTS_OWNER, events: sagaEventSchemas },
  ]);
}
