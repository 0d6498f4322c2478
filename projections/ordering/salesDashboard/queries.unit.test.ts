import { topProducts } from "./queries";

describe("topProducts", () => {
  it("sorts by units descending, then by SKU, and honours the limit", () => {
    const unitsBySku = { C: 5, A: 5, B: 9, D: 1, E: 0 };
    expect(topProducts({ unitsBySku }, 3)).toEqual([
      { sku: "B", units: 9 },
      { sku: "A", units: 5 },
      { sku: "C", units: 5 },
    ]);
    expect(topProducts({ unitsBySku }, 10).map((p) => p.sku)).toEqual(["B", "A", "C", "D"]);
  });
});
