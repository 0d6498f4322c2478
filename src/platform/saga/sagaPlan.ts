import type { AnyContract } from "../aggregate/contract";
import { DomainError, ErrorCode } from "../core/errors";
import { evolveSaga } from "./sagaState";
import type { SagaDefinition, SagaEvent, SagaState, SagaStep } from "./types";

/**
 * What a saga instance needs next, from its state alone:
 * - `record`: an event to append before anything is sent (the deadline passed, the saga ends, or a step starts);
 * - `send`: the step recorded as STARTED whose command goes out now (again, after a crash: same command id);
 * - `stop`: the instance is not running (finished, failed, or not started).
 */
export type SagaAction<Targets extends AnyContract = AnyContract> =
  | { kind: "record"; event: SagaEvent }
  | { kind: "send"; step: SagaStep<Targets> }
  | { kind: "stop" };

export function isActive(state: SagaState<unknown>): boolean {
  return state.status === "RUNNING" || state.status === "COMPENSATING";
}

export function nextAction<Data, Targets extends AnyContract>(
  definition: SagaDefinition<Data, Targets>,
  state: SagaState<unknown>,
  now: number,
): SagaAction<Targets> {
  if (!isActive(state)) return { kind: "stop" };
  if (state.status === "RUNNING" && now >= Date.parse(state.deadlineAt)) {
    return { kind: "record", event: { type: "SagaDeadlinePassed", data: { deadlineAt: state.deadlineAt } } };
  }
  const next = definition.next({ ...state, data: definition.parseData(state.data) });
  if ("finished" in next) return { kind: "record", event: { type: "SagaFinished", data: { status: next.finished } } };
  if (state.steps[next.id]?.status === "STARTED") return { kind: "send", step: next };
  return { kind: "record", event: { type: "SagaStepStarted", data: { step: next.id, service: next.service, compensation: next.compensation } } };
}

/** A run of events recorded as one append, and the state and next action they lead to. */
export interface SagaPlan<Targets extends AnyContract = AnyContract> {
  events: SagaEvent[];
  state: SagaState<unknown>;
  then: Extract<SagaAction<Targets>, { kind: "send" | "stop" }>;
}

/**
 * Folds `decided` (e.g. a step's reply) into `state`, then every event that
 * follows from it without sending anything: the reply and the next step's
 * start (or the saga's end) become ONE append. Safe because a step is still
 * recorded as STARTED before its command is sent, so compensation and a
 * resume after a crash see exactly what they saw with one append per event.
 */
export function planAfter<Data, Targets extends AnyContract>(
  definition: SagaDefinition<Data, Targets>,
  state: SagaState<unknown>,
  decided: readonly SagaEvent[],
  now: number,
  at = new Date(now).toISOString(),
): SagaPlan<Targets> {
  const events = [...decided];
  let folded = decided.reduce((s, e) => evolveSaga(s, e, at), state);
  // Each recorded event either starts the next step, ends the saga or passes the deadline (once): a handful at most.
  for (let i = 0; i < 8; i++) {
    const action = nextAction(definition, folded, now);
    if (action.kind !== "record") return { events, state: folded, then: action };
    events.push(action.event);
    folded = evolveSaga(folded, action.event, at);
  }
  throw new DomainError(ErrorCode.INTERNAL, `saga ${state.id}: no step to send after ${events.map((e) => e.type).join(", ")} (a definition that never settles)`, {
    saga: state.saga,
    id: state.id,
  });
}
