import { z } from "zod";
import { eventType } from "../eventstore/eventSchemas";

const failure = { step: z.string(), code: z.string(), message: z.string() };

/** The events of a saga instance's own stream; committed as JSON Schemas under schema/events/saga/. */
export const sagaEventSchemas = {
  SagaStarted: eventType(
    // `data` belongs to each saga definition, so the platform cannot say more about it than that it is there.
    z.object({ sagaId: z.string(), saga: z.string(), data: z.unknown(), deadlineAt: z.string(), correlationId: z.string() }),
  ),
  SagaStepStarted: eventType(z.object({ step: z.string(), service: z.string(), compensation: z.boolean() })),
  SagaStepSucceeded: eventType(z.object({ step: z.string(), events: z.array(z.string()) })),
  SagaStepFailed: eventType(z.object({ ...failure, compensation: z.boolean() })),
  SagaDeadlinePassed: eventType(z.object({ deadlineAt: z.string() })),
  SagaFinished: eventType(z.object({ status: z.enum(["COMPLETED", "COMPENSATED"]) })),
  SagaFailed: eventType(z.object(failure)),
  SagaRedriven: eventType(z.object({ by: z.string() })),
};

/** Where the saga events' schemas are filed, next to the services' own. */
export const SAGA_EVENTS_OWNER = "saga";
