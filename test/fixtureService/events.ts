import { z } from "zod";
import { eventType, type EventsOf } from "../../src/platform/eventstore/eventSchemas";

/** The fixture's one fact. */
export const fixtureEventSchemas = {
  TallyBumped: eventType(z.object({ tallyId: z.string(), by: z.number().int() })),
};

export type FixtureEvent = EventsOf<typeof fixtureEventSchemas>;
