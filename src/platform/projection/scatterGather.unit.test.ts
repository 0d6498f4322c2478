import { indexMember } from "./readModelStore";
import { compareCodePoints, mergeSegmentPages } from "./scatterGather";

const m = (sortKey: string, id: string) => indexMember(sortKey, id);

/** The whole index in one segment, paged the way one sorted set is: the reference a merge must equal. */
function singleSegmentPage(all: string[], first: number, after: string | null, descending: boolean) {
  const sorted = [...all].sort((a, b) => (descending ? -1 : 1) * compareCodePoints(a, b));
  const rest = after === null ? sorted : sorted.filter((x) => (descending ? -1 : 1) * compareCodePoints(x, after) > 0);
  return { members: rest.slice(0, first), hasNextPage: rest.length > first };
}

/** What each segment answers: its members after the cursor, in order, at most first + 1. */
function segmentSlices(segments: string[][], first: number, after: string | null, descending: boolean): string[][] {
  return segments.map((members) => singleSegmentPage(members, first + 1, after, descending).members);
}

describe("scatter-gather cursor merge", () => {
  it("given segments with interleaved entries, when the first page is merged, then it is the global first page", () => {
    const slices = [[m("1", "a"), m("4", "d")], [m("2", "b"), m("5", "e")], [m("3", "c")]];
    const page = mergeSegmentPages(slices, 3);
    expect(page.entries).toEqual([
      { segment: 0, member: m("1", "a") },
      { segment: 1, member: m("2", "b") },
      { segment: 2, member: m("3", "c") },
    ]);
    expect(page.hasNextPage).toBe(true);
  });

  it("given equal sort keys in different segments, when merged, then the document id breaks the tie", () => {
    const slices = [[m("2026-01-01", "order-b"), m("2026-01-01", "order-d")], [m("2026-01-01", "order-a"), m("2026-01-01", "order-c")]];
    const ids = mergeSegmentPages(slices, 10).entries.map((e) => e.member.split("\u0000")[1]);
    expect(ids).toEqual(["order-a", "order-b", "order-c", "order-d"]);
  });

  it("given empty segments, when merged, then they add nothing and the page ends", () => {
    expect(mergeSegmentPages([[], [], []], 5)).toEqual({ entries: [], hasNextPage: false });
    const page = mergeSegmentPages([[], [m("1", "a")], []], 5);
    expect(page).toEqual({ entries: [{ segment: 1, member: m("1", "a") }], hasNextPage: false });
  });

  it("given exactly `first` entries in all, when merged, then there is no next page; given one more, then there is", () => {
    expect(mergeSegmentPages([[m("1", "a")], [m("2", "b")]], 2).hasNextPage).toBe(false);
    expect(mergeSegmentPages([[m("1", "a")], [m("2", "b"), m("3", "c")]], 2).hasNextPage).toBe(true);
  });

  it("given a descending read, when merged, then entries come newest first", () => {
    const slices = [[m("4", "d"), m("1", "a")], [m("3", "c"), m("2", "b")]];
    expect(mergeSegmentPages(slices, 3, true).entries.map((e) => e.member)).toEqual([m("4", "d"), m("3", "c"), m("2", "b")]);
  });

  it("given the same member in two segments, when merged, then it is returned once", () => {
    const page = mergeSegmentPages([[m("1", "a"), m("2", "b")], [m("1", "a")]], 5);
    expect(page.entries.map((e) => e.member)).toEqual([m("1", "a"), m("2", "b")]);
  });

  it("given members beyond the BMP, when compared, then the order is Redis's byte order, not UTF-16's", () => {
    // U+FF5E sorts below U+1F600 in UTF-8 bytes (EF BD BE < F0 9F 98 80), above it in UTF-16 units (FF5E > D83D).
    expect(compareCodePoints("\uff5e", "\u{1f600}")).toBeLessThan(0);
    expect(Buffer.compare(Buffer.from("\uff5e"), Buffer.from("\u{1f600}"))).toBeLessThan(0);
    const page = mergeSegmentPages([[m("\u{1f600}", "x")], [m("\uff5e", "y")]], 1);
    expect(page.entries[0]).toEqual({ segment: 1, member: m("\uff5e", "y") });
  });

  it("given every way to split an index over K segments, when paged to the end with cursors at every boundary, then the pages and cursors equal one segment's", () => {
    // Sort keys with ties, so cursors fall inside runs of equal keys and at the edges of segments.
    const all = Array.from({ length: 23 }, (_, i) => m(String(Math.floor(i / 3)).padStart(2, "0"), `id-${String(i).padStart(2, "0")}`));
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const k of [1, 2, 4, 7]) {
      for (const layout of ["random", "blocks", "all-in-last"] as const) {
        const segments: string[][] = Array.from({ length: k }, () => []);
        all.forEach((member, i) => {
          const s = layout === "random" ? Math.floor(random() * k) : layout === "blocks" ? Math.floor((i * k) / all.length) : k - 1;
          segments[s]!.push(member);
        });
        for (const descending of [false, true]) {
          for (const first of [1, 2, 3, 5, 23, 30]) {
            let after: string | null = null;
            for (let pages = 0; pages < 30; pages++) {
              const expected = singleSegmentPage(all, first, after, descending);
              const merged = mergeSegmentPages(segmentSlices(segments, first, after, descending), first, descending);
              expect(merged.entries.map((e) => e.member)).toEqual(expected.members);
              expect(merged.hasNextPage).toBe(expected.hasNextPage);
              for (const entry of merged.entries) expect(segments[entry.segment]).toContain(entry.member);
              if (!merged.hasNextPage) break;
              after = merged.entries.at(-1)!.member;
            }
          }
        }
      }
    }
  });
});
