import { isEventOf } from "../aggregate/contract";
import { formatLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";
import { indexMember } from "../projection/readModelStore";
import type { DocumentProjection } from "../projection/types";
import { sagaContract } from "./sagaService";
import { evolveSaga, initialSagaState } from "./sagaState";
import { sagaEventTypes, type SagaState, type StepRecord } from "./types";

/** What operators see of a saga instance: where it is, what happened, what went wrong. */
export interface SagaView {
  id: string;
  sagaId: string;
  saga: string;
  status: string;
  currentStep: string | null;
  deadlineAt: string;
  deadlinePassed: boolean;
  lastError: { step: string; code: string; message: string } | null;
  steps: Array<{ step: string } & StepRecord>;
  history: Array<{ type: string; step: string | null; at: string }>;
  startedAt: string;
  updatedAt: string;
  version: number;
  position: string;
  state: SagaState<unknown>;
}

export const SAGAS = "sagas";
export const SAGA_TOPIC = "saga";
export const SAGAS_TOPIC = "sagas";

export const sagaProjection: DocumentProjection<SagaView> = {
  name: SAGAS,
  eventTypes: sagaEventTypes,
  history: true,
  documentIds: (event) => [event.streamId],
  evolve(doc, recorded: RecordedEvent, id) {
    if (!isEventOf(recorded, sagaContract)) return doc; // subscribed to saga events only
    const at = recorded.metadata.recordedAt;
    const state = evolveSaga(doc?.state ?? initialSagaState, recorded, at);
    const step = "step" in recorded.data ? recorded.data.step : null;
    return {
      id,
      sagaId: state.id,
      saga: state.saga,
      status: state.status,
      currentStep: Object.entries(state.steps).find(([, s]) => s.status === "STARTED")?.[0] ?? null,
      deadlineAt: state.deadlineAt,
      deadlinePassed: state.deadlinePassed,
      lastError: state.lastError,
      steps: Object.entries(state.steps).map(([name, record]) => ({ step: name, ...record })),
      history: [...(doc?.history ?? []), { type: recorded.type, step, at }],
      startedAt: doc?.startedAt ?? at,
      updatedAt: at,
      version: recorded.streamVersion,
      position: formatLogPosition(recorded.position),
      state,
    };
  },
  indexes: (doc) => [
    { index: "all", member: indexMember(doc.startedAt, doc.id) },
    { index: `status:${doc.status}`, member: indexMember(doc.startedAt, doc.id) },
  ],
  // A step that succeeded while the saga goes on is no news to a follower: the runner records the
  // next step (or the end) right after it, and that event's view shows the success too. Published,
  // it showed every saga between steps with no current step, doubling what a checkout sends.
  topics: (id, doc, event) =>
    event.type === "SagaStepSucceeded" && (doc?.status === "RUNNING" || doc?.status === "COMPENSATING") ? [] : [`${SAGA_TOPIC}:${id}`, SAGAS_TOPIC],
};
