import type { DomainEvent } from "../eventstore/types";

/**
 * The pure heart of an aggregate. `decide` validates a command against the
 * current state and returns the facts it produces (or throws a DomainError);
 * `evolve` folds one fact into the state. No I/O, no clock, no randomness:
 * whatever a command needs from outside arrives inside the command.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  readonly initialState: State;
  /**
   * Names the shape of State and the meaning of `evolve`, e.g. "product@1".
   * Bump it whenever either changes: snapshots taken under another one are
   * ignored. A decider without one is never snapshotted. Its State must be
   * plain JSON (no Map, Set, Date or undefined) to be snapshotted.
   */
  readonly stateVersion?: string;
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
}

export function fold<Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, "initialState" | "evolve">,
  events: readonly Event[],
): State {
  return events.reduce(decider.evolve, decider.initialState);
}

/** Makes a `switch` over a union exhaustive: a missing case becomes a compile error. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
