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
  /** Must not change `state`: a refused command leaves the (cached) state as it was. */
  decide(command: Command, state: State): Event[];
  /**
   * Folds one event into `state` and returns the next state. Ownership rule:
   * the caller owns `state` and gives it up: evolve may update it in place
   * (so a long stream folds at a constant cost per event instead of copying
   * its maps each time) and the caller uses only the returned state from then
   * on. Folds therefore start from a copy of `initialState` (see
   * `ownedInitialState`), never from `initialState` itself, nor from a state
   * someone else still reads. Events are never changed, and the state keeps no
   * reference to an event's objects that it later updates.
   */
  evolve(state: State, event: Event): State;
}

/** A fresh copy of the initial state, owned by the fold that starts from it (State is plain JSON). */
export function ownedInitialState<State>(decider: { readonly initialState: State }): State {
  return structuredClone(decider.initialState);
}

export function fold<Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, "initialState" | "evolve">,
  events: readonly Event[],
): State {
  return events.reduce(decider.evolve, ownedInitialState(decider));
}

/** Makes a `switch` over a union exhaustive: a missing case becomes a compile error. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
