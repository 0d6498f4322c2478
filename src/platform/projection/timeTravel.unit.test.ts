import { ErrorCode } from "../core/errors";
import type { RecordedEvent } from "../eventstore/types";
import type { DocumentProjection } from "./types";
import { HISTORY, historyIndex, historyProjection, type HistoryRecord, toRecordedEvent } from "./historyProjection";
import { decided, eventsUpTo, foldAsOf, parseAsOf } from "./timeTravel";

/** A document that draws on two streams: a tally per key, moved by `Added` (stream a-…) and `Removed` (stream b-…). */
interface Tally {
  key: string;
  total: number;
  version: number;
}

const tallies: DocumentProjection<Tally> = {
  name: "tallies",
  eventTypes: ["Added", "Removed"],
  history: true,
  documentIds: (e) => [(e.data as { key: string }).key],
  evolve: (doc, e, id) => {
    const { amount } = e.data as { amount: number };
    return { key: id, total: (doc?.total ?? 0) + (e.type === "Added" ? amount : -amount), version: e.streamVersion };
  },
};
const untracked: DocumentProjection<number> = { name: "untracked", eventTypes: ["Added"], documentIds: () => ["x"], evolve: (n) => (n ?? 0) + 1 };

function event(n: number, type: string, streamId: string, streamVersion: number, data: object, correlationId = "corr-1"): RecordedEvent {
  return {
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    streamId,
    streamVersion,
    globalPosition: BigInt(n),
    position: { transactionId: BigInt(900 + n), globalPosition: BigInt(n) },
    type,
    schemaVersion: 1,
    data,
    metadata: { correlationId, causationId: "cause", commandId: `cmd-${n}`, actor: "alice", recordedAt: `2030-01-01T00:00:${String(n * 10).padStart(2, "0")}.000Z` },
  };
}

// Commit order interleaves the two streams that feed document "k".
const log = [
  event(1, "Added", "a-1", 1, { key: "k", amount: 10 }),
  event(2, "Removed", "b-1", 1, { key: "k", amount: 3 }),
  event(3, "Added", "a-2", 1, { key: "other", amount: 99 }, "corr-2"),
  event(4, "Added", "a-1", 2, { key: "k", amount: 5 }),
  event(5, "Other", "c-1", 1, {}),
];

const history = historyProjection([tallies, untracked]);
const records = log.map((e) => history.evolve(null, e, e.eventId)!);

function liveAfter(events: RecordedEvent[]): Tally | null {
  return events.filter((e) => tallies.eventTypes.includes(e.type) && tallies.documentIds(e).includes("k")).reduce<Tally | null>((d, e) => tallies.evolve(d, e, "k"), null);
}

/** The document's trail as the history index orders it: by member, which is the commit-order sort key. */
function trailOf(projection: string, id: string): RecordedEvent[] {
  const index = historyIndex.document(projection, id);
  return records
    .flatMap((r) => history.indexes!(r).filter((e) => e.index === index).map((e) => ({ member: e.member, r })))
    .sort((a, b) => (a.member < b.member ? -1 : 1))
    .map(({ r }) => toRecordedEvent(r));
}

describe("history projection", () => {
  it("reads every event and keeps each one as it was recorded", () => {
    expect(history.name).toBe(HISTORY);
    expect(history.eventTypes).toBe("all");
    expect(records.map(toRecordedEvent)).toEqual(log);
  });

  it("indexes an event under every history-keeping document it changes, whatever its stream", () => {
    expect(records.map((r) => r.documents)).toEqual([
      [{ projection: "tallies", id: "k" }],
      [{ projection: "tallies", id: "k" }],
      [{ projection: "tallies", id: "other" }],
      [{ projection: "tallies", id: "k" }],
      [],
    ]);
    expect(trailOf("tallies", "k").map((e) => e.eventId)).toEqual([log[0], log[1], log[3]].map((e) => e!.eventId));
    expect(trailOf("untracked", "x")).toEqual([]); // no history asked for, none kept
  });

  it("indexes by correlation id in commit order", () => {
    const corr1 = records.flatMap((r) => history.indexes!(r)).filter((e) => e.index === historyIndex.correlation("corr-1"));
    expect(corr1).toHaveLength(4);
    expect([...corr1.map((e) => e.member)].sort()).toEqual(corr1.map((e) => e.member)); // already in commit order
  });

  it("sorts positions numerically, not as text", () => {
    const small = history.evolve(null, { ...log[0]!, eventId: "s", position: { transactionId: 99n, globalPosition: 5n } }, "s")!;
    const large = history.evolve(null, { ...log[0]!, eventId: "l", position: { transactionId: 100n, globalPosition: 1n } }, "l")!;
    const member = (r: HistoryRecord) => history.indexes!(r)[0]!.member;
    expect(member(small) < member(large)).toBe(true);
  });

  it("never rewrites a recorded event", () => {
    const first = records[0]!;
    expect(history.evolve(first, { ...log[0]!, data: { key: "k", amount: 1000 } }, first.eventId)).toBe(first);
  });
});

describe("time travel", () => {
  const trail = trailOf("tallies", "k");

  it("folds the n-th version from every stream the document draws on", () => {
    expect(foldAsOf(tallies, "k", trail, { kind: "version", version: 1 })).toEqual({ key: "k", total: 10, version: 1 });
    expect(foldAsOf(tallies, "k", trail, { kind: "version", version: 2 })).toEqual(liveAfter(log.slice(0, 2)));
    expect(foldAsOf(tallies, "k", trail, { kind: "version", version: 3 })).toEqual(liveAfter(log));
  });

  it("folds the state at a moment: events recorded at or before it", () => {
    const at = (iso: string) => foldAsOf(tallies, "k", trail, { kind: "at", at: new Date(iso) });
    expect(at("2030-01-01T00:00:05.000Z")).toBeNull(); // before the first event: it did not exist yet
    expect(at("2030-01-01T00:00:10.000Z")).toEqual({ key: "k", total: 10, version: 1 }); // inclusive
    expect(at("2030-01-01T00:00:39.999Z")).toEqual({ key: "k", total: 7, version: 1 });
    expect(at("2031-01-01T00:00:00.000Z")).toEqual(liveAfter(log));
  });

  it("stops at the first later event, so a moment never yields a state the document never had", () => {
    const skewed = [trail[0]!, { ...trail[1]!, metadata: { ...trail[1]!.metadata, recordedAt: "2030-01-01T00:01:00.000Z" } }, trail[2]!];
    expect(eventsUpTo(skewed, { kind: "at", at: new Date("2030-01-01T00:00:45.000Z") })).toBe(1);
  });

  it("knows when the first events already decide a past state, so the rest need not be read", () => {
    expect(decided(trail.slice(0, 1), { kind: "version", version: 2 })).toBe(false);
    expect(decided(trail.slice(0, 2), { kind: "version", version: 2 })).toBe(true);
    expect(decided(trail.slice(0, 2), { kind: "at", at: new Date("2030-01-01T00:00:25.000Z") })).toBe(false); // a later event may still be inside
    expect(decided(trail.slice(0, 2), { kind: "at", at: new Date("2030-01-01T00:00:15.000Z") })).toBe(true); // the 2nd is already later
  });

  it("refuses a version beyond the events recorded, naming the field and the range", () => {
    expect(() => eventsUpTo(trail, { kind: "version", version: 4 })).toThrow(
      expect.objectContaining({ code: ErrorCode.VALIDATION, details: expect.objectContaining({ field: "asOf.version", expected: expect.stringContaining("1 to 3") }) }),
    );
  });
});

describe("asOf input", () => {
  const refusal = (input: Parameters<typeof parseAsOf>[0], field: string) =>
    expect(() => parseAsOf(input)).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION, details: expect.objectContaining({ field }) }));

  it("takes exactly one of at and version", () => {
    expect(parseAsOf({ version: 2 })).toEqual({ kind: "version", version: 2 });
    expect(parseAsOf({ at: new Date("2030-01-01T00:00:00Z"), version: null })).toEqual({ kind: "at", at: new Date("2030-01-01T00:00:00Z") });
    refusal({}, "asOf");
    refusal({ at: null, version: null }, "asOf");
    refusal({ at: new Date(), version: 1 }, "asOf");
  });

  it("refuses versions below 1 and invalid dates", () => {
    refusal({ version: 0 }, "asOf.version");
    refusal({ version: -3 }, "asOf.version");
    refusal({ at: new Date("not a date") }, "asOf.at");
  });
});
