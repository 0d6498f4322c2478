import { ValidationError } from "../core/errors";
import { segmentOf } from "./segmentOf";
import { projectionSegment, routingOf, segmentName } from "./segmentedProjection";
import type { DocumentProjection } from "./types";

/** Projections may run as at most this many segments (PROJECTION_SEGMENTS says 1 to 64). */
export const MAX_SEGMENTS = 64;

interface Layout {
  segments: number;
  documentKey: (id: string) => string;
}

/**
 * How many segments each projection runs as, and where a document lives:
 * what the projector expands projections into, and what the read side asks to
 * route a document read or gather an index from every segment.
 */
export class ProjectionSegments {
  private constructor(private readonly layouts: ReadonlyMap<string, Layout>) {}

  /** Every projection as one segment: the default, and what tests that do not segment use. */
  static readonly NONE = new ProjectionSegments(new Map());

  /**
   * Segment counts from the definitions' `segments`, overridden by `configured`
   * (PROJECTION_SEGMENTS). Refuses a name that is no projection, and more than
   * one segment for a projection that declares no `routing`.
   */
  static of(definitions: readonly DocumentProjection<unknown>[], configured: Readonly<Record<string, number>> = {}): ProjectionSegments {
    const byName = new Map(definitions.map((d) => [d.name, d]));
    for (const name of Object.keys(configured)) {
      if (!byName.has(name)) throw new ValidationError("PROJECTION_SEGMENTS", name, `one of the projections: ${[...byName.keys()].join(", ")}`);
    }
    const layouts = new Map<string, Layout>();
    for (const definition of definitions) {
      const segments = configured[definition.name] ?? definition.segments ?? 1;
      if (!Number.isInteger(segments) || segments < 1 || segments > MAX_SEGMENTS) {
        throw new ValidationError(`segments of projection '${definition.name}'`, segments, `an integer from 1 to ${MAX_SEGMENTS}`);
      }
      if (segments > 1 && !definition.routing) {
        throw new ValidationError(
          `segments of projection '${definition.name}'`,
          segments,
          "1: it declares no routing, so it may aggregate across documents and must see every event in one segment",
        );
      }
      if (segments > 1) layouts.set(definition.name, { segments, documentKey: routingOf(definition).document });
    }
    return new ProjectionSegments(layouts);
  }

  count(projection: string): number {
    return this.layouts.get(projection)?.segments ?? 1;
  }

  /** The names every segment of a projection is stored and processed under, in segment order. */
  names(projection: string): string[] {
    const segments = this.count(projection);
    return Array.from({ length: segments }, (_, s) => segmentName(projection, s, segments));
  }

  /** The name of the segment a document of this projection lives in. */
  nameOf(projection: string, id: string): string {
    const layout = this.layouts.get(projection);
    return layout ? segmentName(projection, segmentOf(layout.documentKey(id), layout.segments), layout.segments) : projection;
  }

  /** Each definition as the segments the projector runs. */
  expand(definitions: readonly DocumentProjection<unknown>[]): DocumentProjection<unknown>[] {
    return definitions.flatMap((definition) => {
      const segments = this.count(definition.name);
      return Array.from({ length: segments }, (_, s) => projectionSegment(definition, s, segments));
    });
  }
}
