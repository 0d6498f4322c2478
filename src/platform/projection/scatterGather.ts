/** An index entry found in one segment. */
export interface SegmentEntry {
  segment: number;
  member: string;
}

export interface MergedPage {
  /** At most `first` entries, in index order across every segment. */
  entries: SegmentEntry[];
  /** Some segment holds an entry past the last one returned. */
  hasNextPage: boolean;
}

/**
 * Merges the pages that each segment of a projection answered for one index
 * read into the page a single segment holding everything would have answered.
 *
 * `slices[s]` are segment s's members after the cursor, in the read's order,
 * up to `first + 1` of them (fewer only when the segment has no more). The
 * global first `first + 1` entries are then all among them, so the page and
 * `hasNextPage` are exact, and since a cursor is a member (sort key and
 * document id, unique across segments) it means the same whatever the
 * segment count: the next page continues from it in every segment.
 *
 * Order is Redis's BYLEX order (bytes of UTF-8), which is code point order,
 * not JavaScript's UTF-16 `<`. Equal sort keys tie-break on the document id
 * that ends every member; a member in two segments (impossible when
 * documents route to their segment) is returned once.
 */
export function mergeSegmentPages(slices: readonly (readonly string[])[], first: number, descending = false): MergedPage {
  const heads = slices.map(() => 0);
  const entries: SegmentEntry[] = [];
  const sign = descending ? -1 : 1;
  for (;;) {
    let best = -1;
    for (let s = 0; s < slices.length; s++) {
      const member = slices[s]![heads[s]!];
      if (member === undefined) continue;
      if (best < 0 || sign * compareCodePoints(member, slices[best]![heads[best]!]!) < 0) best = s;
    }
    if (best < 0) return { entries, hasNextPage: false };
    const member = slices[best]![heads[best]!]!;
    for (let s = 0; s < slices.length; s++) if (slices[s]![heads[s]!] === member) heads[s]! += 1;
    if (entries.length === first) return { entries, hasNextPage: true };
    entries.push({ segment: best, member });
  }
}

/** Compares strings by code point (the order of their UTF-8 bytes), as Redis orders members of equal score. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (U+D800–DFFF, which start code points above U+FFFF) rank above U+E000–FFFF, as their code points do. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
