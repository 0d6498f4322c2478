import type { z } from "zod";
import type { DomainEvent } from "./types";

/** Turns the data of one version into the data of the next. Pure: no I/O, no clock. */
export type Upcaster = (data: unknown) => unknown;

/**
 * Every shape an event type has had, oldest first: `versions[0]` is v1 and the
 * last one is current. `upcasters[i]` turns v(i+1) data into v(i+2) data, so
 * there is always exactly one fewer upcaster than versions.
 */
export interface EventHistory<Current extends z.ZodType = z.ZodType> {
  readonly versions: readonly z.ZodType[];
  readonly upcasters: readonly Upcaster[];
  /** Only carries the current data type for inference; never read. */
  readonly current?: Current;
}

export interface EventHistoryBuilder<Current extends z.ZodType> extends EventHistory<Current> {
  /**
   * The next version of the event and how old data becomes it. Shipped
   * versions never change: a new shape is always a new version.
   */
  then<Next extends z.ZodType>(next: Next, upcast: (previous: z.output<Current>) => z.output<Next>): EventHistoryBuilder<Next>;
}

/** Starts an event type's history with its first version. */
export function eventType<V1 extends z.ZodType>(v1: V1): EventHistoryBuilder<V1> {
  return build<V1>([v1], []);
}

function build<Current extends z.ZodType>(versions: z.ZodType[], upcasters: Upcaster[]): EventHistoryBuilder<Current> {
  return {
    versions,
    upcasters,
    then<Next extends z.ZodType>(next: Next, upcast: (previous: z.output<Current>) => z.output<Next>) {
      return build<Next>([...versions, next], [...upcasters, upcast as Upcaster]);
    },
  };
}

/** A bounded context's event types by name. */
export type EventSchemas = Readonly<Record<string, EventHistory>>;

type DataOf<H> = H extends EventHistory<infer Current> ? z.output<Current> : never;

/** The union of a context's events, at their current versions, derived from its schemas. */
export type EventsOf<S extends EventSchemas> = {
  [Type in keyof S & string]: DomainEvent<Type, DataOf<S[Type]>>;
}[keyof S & string];

/** The event types of a context, in declaration order. */
export function typesOf<S extends EventSchemas>(schemas: S): readonly (keyof S & string)[] {
  return Object.freeze(Object.keys(schemas));
}
