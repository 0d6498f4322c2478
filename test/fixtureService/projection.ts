import type { DocumentProjection } from "../../src/platform/projection/types";
import type { RecordedEvent } from "../../src/platform/eventstore/types";

export const FIXTURE_TALLIES = "fixtureTallies";

export interface TallyView {
  tallyId: string;
  total: number;
}

function bumped(event: RecordedEvent): { tallyId: string; by: number } | null {
  const { data } = event;
  if (event.type !== "TallyBumped" || typeof data !== "object" || data === null) return null;
  const tallyId = "tallyId" in data ? data.tallyId : undefined;
  const by = "by" in data ? data.by : undefined;
  return typeof tallyId === "string" && typeof by === "number" ? { tallyId, by } : null;
}

/** The fixture's read model: each tally's total. */
export const talliesProjection: DocumentProjection<TallyView> = {
  name: FIXTURE_TALLIES,
  eventTypes: ["TallyBumped"],
  documentIds: (event) => {
    const fact = bumped(event);
    return fact ? [fact.tallyId] : [];
  },
  evolve: (doc, event, id) => {
    const fact = bumped(event);
    return fact ? { tallyId: id, total: (doc?.total ?? 0) + fact.by } : doc;
  },
};
