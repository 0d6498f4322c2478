import { indexMember } from "../../src/platform/projection/readModelStore";
import type { DocumentProjection } from "../../src/platform/projection/types";

/** A toy read model for tests of the projection machinery: per stream, the sum of the numbers its `Added` events carry. */
export interface Tally {
  stream: string;
  sum: number;
  count: number;
}

export const tallies: DocumentProjection<Tally> = {
  name: "tallies",
  eventTypes: ["Added"],
  documentIds: (e) => [e.streamId],
  evolve: (doc, e, id) => ({ stream: id, sum: (doc?.sum ?? 0) + (e.data as { n: number }).n, count: (doc?.count ?? 0) + 1 }),
  indexes: (doc) => [{ index: "bySum", member: indexMember(String(doc.sum).padStart(8, "0"), doc.stream) }],
  topics: (id) => [`tally:${id}`],
};
