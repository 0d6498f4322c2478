import { CommandHandler, type CommandHandlerOptions } from "../aggregate/commandHandler";
import type { Decider } from "../aggregate/decider";
import type { AnyCommand } from "../aggregate/contract";
import type { EventStore } from "../eventstore/eventStore";
import type { DomainEvent } from "../eventstore/types";
import type { CommandExecutor } from "./commandBus";

export interface CommandExecutorDeps {
  readonly store: EventStore;
  readonly handlerOptions: Partial<CommandHandlerOptions>;
}

/** What a service runs its commands with: how to parse one, which stream it routes to, and how it is decided. */
export interface CommandRoute<Command extends AnyCommand, Event extends DomainEvent, State> {
  readonly decider: Decider<Command, Event, State>;
  readonly parse: (command: unknown) => Command;
  readonly streamOf: (command: Command) => string;
}

/**
 * A service's command boundary, the same for every path a command takes (queue
 * worker, inbox worker, local reactors): parsed, not cast, so a malformed,
 * unknown or stale command is a VALIDATION refusal, answered once and never retried.
 */
/**
 * The decider as its service runs it: a command parsed at the boundary, then decided. Deciders
 * trust their typed commands and keep only business rules; given/when/then tests of shape go through this.
 */
export function decidingParsed<Command extends AnyCommand, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  parse: (command: unknown) => Command,
): Decider<unknown, Event, State> {
  return { ...decider, decide: (command, state) => decider.decide(parse(command), state) };
}

export function commandExecutor<Command extends AnyCommand, Event extends DomainEvent, State>(
  { store, handlerOptions }: CommandExecutorDeps,
  { decider, parse, streamOf }: CommandRoute<Command, Event, State>,
): CommandExecutor {
  const handler = new CommandHandler(store, decider, handlerOptions);
  return async (command, context) => {
    const parsed = parse(command);
    return handler.handle(streamOf(parsed), parsed, context);
  };
}
