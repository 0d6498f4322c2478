import { assertNever, type Decider } from "../aggregate/decider";
import { DomainError, ErrorCode } from "../core/errors";
import type { SagaEvent, SagaState } from "./types";

export const initialSagaState: SagaState<unknown> = {
  id: "",
  saga: "",
  status: "ABSENT",
  data: null,
  correlationId: "",
  deadlineAt: "",
  deadlinePassed: false,
  steps: {},
  lastError: null,
  resumeAs: null,
};

/** Folds a saga instance's own stream; the same fold serves the runner, commands and read model. */
export function evolveSaga(state: SagaState<unknown>, event: SagaEvent, at = ""): SagaState<unknown> {
  switch (event.type) {
    case "SagaStarted":
      return {
        ...state,
        id: event.data.sagaId,
        saga: event.data.saga,
        status: "RUNNING",
        data: event.data.data,
        correlationId: event.data.correlationId,
        deadlineAt: event.data.deadlineAt,
      };
    case "SagaStepStarted":
      return { ...state, steps: { ...state.steps, [event.data.step]: { status: "STARTED", at } } };
    case "SagaStepSucceeded":
      return { ...state, steps: { ...state.steps, [event.data.step]: { status: "SUCCEEDED", at } } };
    case "SagaStepFailed": {
      const { step, code, message, compensation } = event.data;
      return {
        ...state,
        status: compensation ? state.status : "COMPENSATING",
        steps: { ...state.steps, [step]: { status: "FAILED", code, message, at } },
        lastError: { step, code, message },
      };
    }
    case "SagaDeadlinePassed":
      return { ...state, status: "COMPENSATING", deadlinePassed: true };
    case "SagaFinished":
      return { ...state, status: event.data.status };
    case "SagaFailed": {
      const { step, code, message } = event.data;
      const resumeAs = state.status === "RUNNING" || state.status === "COMPENSATING" ? state.status : state.resumeAs;
      return { ...state, status: "FAILED", resumeAs, lastError: { step, code, message } };
    }
    case "SagaRedriven":
      return { ...state, status: state.resumeAs ?? "COMPENSATING", resumeAs: null };
    default:
      return assertNever(event);
  }
}

/** Commands an operator may send to a saga instance. */
export type SagaCommand = { type: "RedriveSaga"; sagaStreamId: string; by: string };

/** The saga stream as an aggregate for outside commands: only a FAILED saga can be redriven. */
export const sagaCommandDecider: Decider<SagaCommand, SagaEvent, SagaState<unknown>> = {
  initialState: initialSagaState,
  evolve: (state, event) => evolveSaga(state, event),
  decide(command, state) {
    if (state.status === "ABSENT") {
      throw new DomainError(ErrorCode.NOT_FOUND, `No saga '${command.sagaStreamId}' exists`, { id: command.sagaStreamId });
    }
    if (state.status !== "FAILED") {
      throw new DomainError(ErrorCode.INVALID_TRANSITION, `Saga ${state.id} is ${state.status}; only a FAILED saga can be redriven`, {
        id: state.id,
        from: state.status,
        to: "RUNNING",
      });
    }
    return [{ type: "SagaRedriven", data: { by: command.by } }];
  },
};
