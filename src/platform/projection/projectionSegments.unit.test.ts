import type { RecordedEvent } from "../eventstore/types";
import { LOG_START } from "../eventstore/logPosition";
import { ProjectionSegments } from "./projectionSegments";
import { projectionSegment, SegmentMisroutedError, segmentName } from "./segmentedProjection";
import { segmentOf } from "./segmentOf";
import type { DocumentProjection } from "./types";

const event = (streamId: string, data: Record<string, unknown> = {}): RecordedEvent => ({
  eventId: `e-${streamId}`,
  type: "Added",
  data,
  metadata: { correlationId: "c", causationId: "c", actor: "t", recordedAt: "2026-01-01T00:00:00.000Z" },
  streamId,
  streamVersion: 1,
  globalPosition: 1n,
  position: LOG_START,
  schemaVersion: 1,
});

/** One document per stream: it routes by default. */
const perStream: DocumentProjection<{ n: number }> = {
  name: "perStream",
  eventTypes: ["Added"],
  documentIds: (e) => [e.streamId],
  evolve: (doc) => ({ n: (doc?.n ?? 0) + 1 }),
  routing: {},
};

/** One document for everything, like a dashboard: it declares no routing. */
const dashboard: DocumentProjection<{ n: number }> = { ...perStream, name: "dashboard", documentIds: () => ["all"], routing: undefined };

const definitions = [perStream, dashboard] as Array<DocumentProjection<unknown>>;

describe("projection segments", () => {
  it("given no configuration, when laid out, then every projection is one segment under its own name", () => {
    const layout = ProjectionSegments.of(definitions);
    expect(layout.names("perStream")).toEqual(["perStream"]);
    expect(layout.nameOf("perStream", "s-1")).toBe("perStream");
    expect(layout.expand(definitions)).toEqual(definitions);
  });

  it("given PROJECTION_SEGMENTS, when laid out, then the projection runs as K segments named name#s, and a document reads from the segment it routes to", () => {
    const layout = ProjectionSegments.of(definitions, { perStream: 3 });
    expect(layout.names("perStream")).toEqual(["perStream#0", "perStream#1", "perStream#2"]);
    expect(layout.expand(definitions).map((p) => p.name)).toEqual(["perStream#0", "perStream#1", "perStream#2", "dashboard"]);
    expect(layout.nameOf("perStream", "s-7")).toBe(segmentName("perStream", segmentOf("s-7", 3), 3));
  });

  it("given a projection without routing (it aggregates), when more than one segment is asked for, then start-up is refused", () => {
    expect(() => ProjectionSegments.of(definitions, { dashboard: 2 })).toThrow(/declares no routing/);
    expect(() => ProjectionSegments.of(definitions, { dashboard: 1 })).not.toThrow();
  });

  it("given a name that is no projection or a count out of range, when laid out, then it is refused naming what is valid", () => {
    expect(() => ProjectionSegments.of(definitions, { nope: 2 })).toThrow(/one of the projections: perStream, dashboard/);
    expect(() => ProjectionSegments.of(definitions, { perStream: 65 })).toThrow(/from 1 to 64/);
  });

  it("given a segment, when events arrive, then it names documents only for events routed to it", () => {
    const streams = Array.from({ length: 40 }, (_, i) => `s-${i}`);
    for (let s = 0; s < 4; s++) {
      const segment = projectionSegment(perStream, s, 4);
      const named = streams.filter((id) => segment.documentIds(event(id)).length > 0);
      expect(named).toEqual(streams.filter((id) => segmentOf(id, 4) === s));
    }
  });

  it("given an event whose document routes elsewhere, when its segment names documents, then it refuses with SEGMENT_MISROUTED", () => {
    const misrouted: DocumentProjection<{ n: number }> = { ...dashboard, routing: {} };
    const home = segmentOf("all", 4);
    const stream = Array.from({ length: 50 }, (_, i) => `s-${i}`).find((id) => segmentOf(id, 4) !== home)!;
    const segment = projectionSegment(misrouted, segmentOf(stream, 4), 4);
    expect(() => segment.documentIds(event(stream))).toThrow(SegmentMisroutedError);
    expect(() => segment.documentIds(event(stream))).toThrow(expect.objectContaining({ code: "SEGMENT_MISROUTED" }));
  });

  it("given a routing key other than the stream, when events route, then the key decides", () => {
    const byCustomer: DocumentProjection<{ n: number }> = {
      ...perStream,
      documentIds: (e) => [String(e.data && typeof e.data === "object" && "customer" in e.data ? e.data.customer : "")],
      routing: { event: (e) => String(e.data && typeof e.data === "object" && "customer" in e.data ? e.data.customer : "") },
    };
    const s = segmentOf("c-1", 4);
    const segment = projectionSegment(byCustomer, s, 4);
    for (const stream of ["a", "b", "c", "d", "e"]) expect(segment.documentIds(event(stream, { customer: "c-1" }))).toEqual(["c-1"]);
  });
});
