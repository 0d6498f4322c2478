import { DomainError } from "../../src/platform/core/errors";
import type { DomainEvent } from "../../src/platform/eventstore/types";
import { ownedInitialState, type Decider } from "../../src/platform/aggregate/decider";

/** Test-only: given([events]).when(command).then([events]) or .thenThrows(code). */
export interface DeciderSpec<C, E extends DomainEvent> {
  given(events: E[]): {
    when(command: C): {
      then(expected: E[]): void;
      /** `details`, when given, must be a subset of the error's details (e.g. `{ field: "sku" }`). */
      thenThrows(code: string, details?: Readonly<Record<string, unknown>>): void;
    };
  };
}

export function deciderSpec<C, E extends DomainEvent, S>(decider: Decider<C, E, S>): DeciderSpec<C, E> {
  return {
    given(events) {
      return {
        when(command) {
          // The fold owns its state, so evolve may update it in place (see Decider.evolve); everything
          // else is frozen: an event changed by evolve, or a state or command changed by decide, throws in strict mode.
          const decide = () => {
            let state = ownedInitialState(decider);
            for (const event of events) state = decider.evolve(state, deepFreeze(event));
            return decider.decide(deepFreeze(command), deepFreeze(state));
          };
          return {
            then(expected) {
              expect(decide()).toEqual(expected);
            },
            thenThrows(code, details) {
              let produced: E[];
              try {
                produced = decide();
              } catch (error) {
                expect(error).toBeInstanceOf(DomainError);
                expect(error).toMatchObject({ code, ...(details ? { details } : {}) });
                return;
              }
              throw new Error(`Expected a DomainError ${code}, but decide returned ${JSON.stringify(produced)}`);
            },
          };
        },
      };
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
