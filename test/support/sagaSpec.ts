import type { AnyContract } from "../../src/platform/aggregate/contract";
import { evolveSaga, initialSagaState } from "../../src/platform/saga/sagaState";
import type { SagaDefinition, SagaEvent, SagaStep, StepReply } from "../../src/platform/saga/types";

/**
 * Test-only: given([saga events]).next() is what the runner would do next;
 * judge(step, reply) is how it would read a reply. Pure, no runner needed.
 */
export function sagaSpec<Data, Targets extends AnyContract>(definition: SagaDefinition<Data, Targets>) {
  return {
    given(events: SagaEvent[]) {
      const state = events.reduce((s, e) => evolveSaga(s, e, "t"), initialSagaState);
      return {
        state,
        // Parsed as the runner parses it, so a test also fails when the recorded data does not fit the saga's shape.
        next: () => definition.next({ ...state, data: definition.parseData(state.data) }),
        judge: (step: SagaStep<Targets>, reply: StepReply) => definition.judge(step, reply),
      };
    },
  };
}

/** Saga history builders, so tests read like the story they tell. */
export const sagaHistory = {
  started: (saga: string, sagaId: string, data: unknown): SagaEvent => ({
    type: "SagaStarted",
    data: { sagaId, saga, data, deadlineAt: "2030-01-01T00:00:00.000Z", correlationId: "corr-1" },
  }),
  stepStarted: (step: string, service = "any", compensation = false): SagaEvent => ({
    type: "SagaStepStarted",
    data: { step, service, compensation },
  }),
  succeeded: (step: string, events: string[] = []): SagaEvent => ({ type: "SagaStepSucceeded", data: { step, events } }),
  failed: (step: string, code: string, compensation = false): SagaEvent => ({
    type: "SagaStepFailed",
    data: { step, code, message: `${step} failed: ${code}`, compensation },
  }),
  deadlinePassed: (): SagaEvent => ({ type: "SagaDeadlinePassed", data: { deadlineAt: "2030-01-01T00:00:00.000Z" } }),
  sagaFailed: (step: string, code: string): SagaEvent => ({ type: "SagaFailed", data: { step, code, message: `gave up on ${step}` } }),
  redriven: (): SagaEvent => ({ type: "SagaRedriven", data: { by: "operator" } }),
};
