import { segmentOf } from "./segmentOf";

const keys = (n: number, prefix = "ordering.order-") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("segment routing", () => {
  it("given one segment, when any key routes, then it goes to segment 0", () => {
    for (const key of ["", "a", "ordering.order-1", "ünïcødé", "x".repeat(300)]) expect(segmentOf(key, 1)).toBe(0);
  });

  it("given K segments, when keys route, then every segment is in 0..K-1", () => {
    for (const k of [2, 3, 4, 7, 16]) {
      const outside = keys(2000).filter((key) => {
        const s = segmentOf(key, k);
        return !Number.isInteger(s) || s < 0 || s >= k;
      });
      expect(outside).toEqual([]);
    }
  });

  it("given the pinned values, when they route again, then they go where they always went (stable across processes and versions)", () => {
    // Changing these means every segmented read model in the field routes differently: a full rebuild, never a refactor.
    expect(["a", "order-1", "o-42", "ünïcødé", "ordering.order-1"].map((k) => [segmentOf(k, 4), segmentOf(k, 16), segmentOf(k, 5)])).toEqual([
      [1, 6, 1],
      [1, 1, 1],
      [1, 14, 1],
      [2, 2, 2],
      [1, 15, 1],
    ]);
  });

  it("given many keys, when they route over K segments, then each segment gets its share within 3%", () => {
    for (const k of [2, 4, 7, 16]) {
      const counts = new Array<number>(k).fill(0);
      const all = keys(80_000);
      for (const key of all) counts[segmentOf(key, k)]! += 1;
      const share = all.length / k;
      for (const count of counts) expect(Math.abs(count - share) / share).toBeLessThan(0.03);
    }
  });

  it("given short, similar keys, when they route, then they spread too", () => {
    const counts = [0, 0, 0, 0];
    for (const key of keys(40_000, "o-")) counts[segmentOf(key, 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(9_500);
  });

  it("given K grows by one, when keys route again, then only keys that move to the new segment move, about 1/(K+1) of them", () => {
    const all = keys(10_000, "k");
    const moved = all.filter((key) => segmentOf(key, 4) !== segmentOf(key, 5));
    expect(moved.every((key) => segmentOf(key, 5) === 4)).toBe(true);
    expect(moved.length / all.length).toBeGreaterThan(0.17);
    expect(moved.length / all.length).toBeLessThan(0.23);
  });

  it("given a count that is not a positive integer, when a key routes, then it is refused", () => {
    for (const k of [0, -1, 1.5, Number.NaN]) expect(() => segmentOf("a", k)).toThrow(RangeError);
  });
});
