import { ValidationError } from "../core/errors";
import type { RecordedEvent } from "../eventstore/types";
import type { DocumentProjection } from "./types";

/** A point in a document's past: a moment, or the n-th event of its audit trail. */
export type AsOf = { kind: "at"; at: Date } | { kind: "version"; version: number };

/** GraphQL has no input unions: exactly one of the two fields must be set. */
export function parseAsOf(input: { at?: Date | null; version?: number | null }): AsOf {
  const hasAt = input.at != null;
  const hasVersion = input.version != null;
  if (hasAt === hasVersion) {
    throw new ValidationError("asOf", hasAt ? "both at and version" : "neither at nor version", "exactly one of at or version");
  }
  if (hasAt) {
    if (Number.isNaN(input.at!.getTime())) throw new ValidationError("asOf.at", String(input.at), "an ISO 8601 date-time");
    return { kind: "at", at: input.at! };
  }
  if (!Number.isInteger(input.version) || input.version! < 1) {
    throw new ValidationError("asOf.version", input.version, "an integer of 1 or more");
  }
  return { kind: "version", version: input.version! };
}

/**
 * How many of a document's events (in commit order) precede `asOf`: the first
 * `version` of them, or those recorded at or before `at`. A moment stops at
 * the first later event, so the result is always a state the document really
 * had, even if clocks of different writers disagree by a little.
 */
export function eventsUpTo(events: readonly RecordedEvent[], asOf: AsOf): number {
  if (asOf.kind === "version") {
    checkVersion(asOf, events.length);
    return asOf.version;
  }
  const later = firstLater(events, asOf.at);
  return later === -1 ? events.length : later;
}

/** A version names one of the events recorded so far, or it is refused. */
export function checkVersion(asOf: AsOf, recorded: number): void {
  if (asOf.kind === "version" && asOf.version > recorded) {
    throw new ValidationError("asOf.version", asOf.version, `an integer from 1 to ${recorded}, the events recorded so far`);
  }
}

/** Whether the first events of a trail already decide the state at `asOf`, so the rest need not be read. */
export function decided(events: readonly RecordedEvent[], asOf: AsOf): boolean {
  return asOf.kind === "version" ? events.length >= asOf.version : firstLater(events, asOf.at) !== -1;
}

function firstLater(events: readonly RecordedEvent[], at: Date): number {
  const limit = at.getTime();
  return events.findIndex((e) => Date.parse(e.metadata.recordedAt) > limit);
}

/**
 * The document as it was at `asOf`, folded from its events with the
 * projection's own `evolve`: the live read model and the past agree by
 * construction. Null when the document did not exist yet.
 */
export function foldAsOf<Doc>(projection: DocumentProjection<Doc>, id: string, events: readonly RecordedEvent[], asOf: AsOf): Doc | null {
  let doc: Doc | null = null;
  for (const event of events.slice(0, eventsUpTo(events, asOf))) doc = projection.evolve(doc, event, id);
  return doc;
}
