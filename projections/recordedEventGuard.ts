import type { EventSchemas, EventsOf } from "../src/platform/eventstore/eventSchemas";
import type { DomainEvent, RecordedEvent } from "../src/platform/eventstore/types";

/**
 * A recorded event of one of the types of `E`, as a union with one member per
 * type: a `switch` on `type` then narrows `data` too (`RecordedEvent<A | B>`
 * would pair any type with any data).
 */
export type RecordedOf<E extends DomainEvent> = E extends DomainEvent ? RecordedEvent<E> : never;

/**
 * A guard that tells a context's events (or only the types in `only`) apart
 * by their type name. The name is enough: the store checks every event's data
 * against its type's schema on append, and the log reader upcasts old versions
 * to the current one, so a projection only ever sees data of the current shape.
 */
export function recordedEventGuard<S extends EventSchemas, T extends keyof S & string = keyof S & string>(
  schemas: S,
  only?: readonly T[],
): (event: RecordedEvent) => event is RecordedOf<Extract<EventsOf<S>, { type: T }>> {
  const types = new Set<string>(only ?? Object.keys(schemas));
  return (event): event is RecordedOf<Extract<EventsOf<S>, { type: T }>> => types.has(event.type);
}
