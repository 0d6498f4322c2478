import type { AnyContract, CommandOf } from "../aggregate/contract";
import { ValidationError } from "../core/errors";
import type { EventsOf } from "../eventstore/eventSchemas";
import type { RecordedEvent } from "../eventstore/types";
import type { sagaEventSchemas } from "./sagaEvents";

export type SagaStatus = "RUNNING" | "COMPENSATING" | "COMPLETED" | "COMPENSATED" | "FAILED";

/**
 * One local transaction of a saga: a command to one service. Typed by the
 * contracts a saga targets: `service` is a contract's name and `command` one of
 * that contract's commands, so `{ service: INVENTORY, command: { type: "VoidPayment", … } }`
 * does not compile.
 */
export type SagaStep<Targets extends AnyContract = AnyContract> = Targets extends AnyContract
  ? {
      /** Unique within the saga instance; part of the command's deterministic id. */
      readonly id: string;
      readonly service: Targets["name"];
      readonly command: CommandOf<Targets>;
      readonly compensation: boolean;
    }
  : never;

/** How a service answered a step's command. */
export type StepReply = { ok: true; events: string[] } | { ok: false; code: string; message: string };

export type StepVerdict = { ok: true } | { ok: false; code: string; message: string };

export interface StepRecord {
  status: "STARTED" | "SUCCEEDED" | "FAILED";
  code?: string;
  message?: string;
  at: string;
}

export interface SagaState<Data> {
  id: string;
  saga: string;
  status: SagaStatus | "ABSENT";
  data: Data;
  correlationId: string;
  deadlineAt: string;
  /** True once the deadline passed while forward steps were still running. */
  deadlinePassed: boolean;
  steps: Readonly<Record<string, StepRecord>>;
  lastError: { step: string; code: string; message: string } | null;
  /** The status a FAILED saga resumes with when redriven. */
  resumeAs: "RUNNING" | "COMPENSATING" | null;
}

/**
 * An orchestrated saga, as pure functions: what starts it, which step comes
 * next, and how to read a step's reply. The runner does all I/O.
 */
export interface SagaDefinition<Data, Targets extends AnyContract = AnyContract> {
  readonly name: string;
  /** Event types that may start an instance. */
  readonly triggerTypes: readonly string[];
  /** Time from start after which unfinished forward steps are abandoned and compensated. */
  readonly deadlineMs: number;
  start(event: RecordedEvent): { id: string; data: Data } | null;
  /**
   * The instance's data as its stream recorded it (SagaStarted), checked
   * against this saga's shape: like an event's data, it crosses the log as
   * JSON, so it is parsed, not cast (a VALIDATION error when it does not fit).
   */
  parseData(data: unknown): Data;
  /** The next step to run, or how the saga ends when none is left. */
  next(state: SagaState<Data>): SagaStep<Targets> | { finished: "COMPLETED" | "COMPENSATED" };
  /** Whether a reply achieved the step's goal (a declined payment is an answer, and a failed step). */
  judge(step: SagaStep<Targets>, reply: StepReply): StepVerdict;
}

export type SagaEvent = EventsOf<typeof sagaEventSchemas>;

export const sagaEventTypes: readonly SagaEvent["type"][] = [
  "SagaStarted",
  "SagaStepStarted",
  "SagaStepSucceeded",
  "SagaStepFailed",
  "SagaDeadlinePassed",
  "SagaFinished",
  "SagaFailed",
  "SagaRedriven",
];

export function sagaStreamId(saga: string, id: string): string {
  return `saga.${saga}-${id}`;
}

/** A saga's id as `sagaStreamId` makes it: `saga.<saga name>-<instance id>`. */
export function validSagaId(field: string, value: unknown): string {
  if (typeof value !== "string" || !/^saga\.[A-Za-z0-9_]{1,64}-[A-Za-z0-9_.:-]{1,64}$/.test(value)) {
    throw new ValidationError(field, value, "a saga id like 'saga.checkout-<orderId>'");
  }
  return value;
}
