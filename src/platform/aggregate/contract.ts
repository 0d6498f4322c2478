import type { z } from "zod";
import type { EventSchemas, EventsOf } from "../eventstore/eventSchemas";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";

/** A command: a `type` naming what is asked, and its fields. */
export type AnyCommand = { readonly type: string };

/**
 * What a service shows the rest of the system, and all that other services,
 * sagas and projections may import of it: its name (its queue and inbox), the
 * events it publishes, and the commands it accepts, with their schemas.
 * Everything else in a service's folder is private to it.
 */
export interface ServiceContract<Name extends string = string, Events extends EventSchemas = EventSchemas, Command extends AnyCommand = AnyCommand> {
  readonly name: Name;
  readonly events: Events;
  /** One schema per command type; `parseCommand` checks a command against them. */
  readonly commands: Readonly<Record<Command["type"], z.ZodType>>;
  /** The boundary check: a command of this service, or a VALIDATION refusal naming the field. */
  parseCommand(command: unknown): Command;
}

/** Any service's contract, whatever its name, events and commands. */
// The command type sits in a parameter position (parseCommand's return) only, so `never` would refuse none of them.
export type AnyContract = ServiceContract<string, EventSchemas, AnyCommand>;

/** The commands a contract's service accepts. */
export type CommandOf<C extends AnyContract> = ReturnType<C["parseCommand"]>;

/** The events a contract's service publishes, at their current versions. */
export type EventOf<C extends AnyContract> = EventsOf<C["events"]>;

/** One event type of a contract, as read from the log: `type` and `data` narrowed together. */
export type RecordedEventOf<C extends AnyContract, Type extends EventOf<C>["type"] = EventOf<C>["type"]> = Recorded<Extract<EventOf<C>, { type: Type }>>;

/** RecordedEvent of each member of a union, so narrowing on `type` narrows `data` too. */
export type Recorded<E extends DomainEvent> = E extends DomainEvent ? RecordedEvent<E> : never;

/**
 * Whether an event read from the log is `type` of this contract: the type guard
 * that replaces `event.data as ...`. The store checked the data against the
 * same schema on append and upcasts it to the current version on read.
 */
export function isEvent<C extends AnyContract, Type extends EventOf<C>["type"]>(
  event: RecordedEvent,
  contract: C,
  type: Type,
): event is RecordedEvent<Extract<EventOf<C>, { type: Type }>> {
  return event.type === type && Object.hasOwn(contract.events, type);
}

/** The event types of a contract that a reader subscribes to, checked against the contract at compile time. */
export function eventTypesOf<C extends AnyContract, const Types extends readonly EventOf<C>["type"][]>(_contract: C, types: Types): Types {
  return types;
}

/**
 * Whether an event read from the log is one of a contract's events (or of
 * `only` among them); narrows it to their union, so a `switch` on `type`
 * narrows `data` too.
 */
export function isEventOf<C extends AnyContract, Type extends EventOf<C>["type"] = EventOf<C>["type"]>(
  event: RecordedEvent,
  contract: C,
  only?: readonly Type[],
): event is Recorded<Extract<EventOf<C>, { type: Type }>> {
  return Object.hasOwn(contract.events, event.type) && (only === undefined || only.some((type) => type === event.type));
}
