import { assign, type AssignmentOptions, type Member, unitsOf } from "./assignment";
import { unitKey, type WorkUnit } from "./leaseStore";

const units = (n: number, segments = 1): WorkUnit[] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: segments }, (_, segment) => ({ processor: `projection:p${i}`, segment }))).flat();
const members = (...ids: string[]): Member[] => ids.map((id) => ({ id, ordinal: null }));
const pods = (...ordinals: number[]): Member[] => ordinals.map((ordinal) => ({ id: `pod-${ordinal}-${ordinal * 7919}`, ordinal }));

/** given(units, members).when(change).then(...): assignment before and after a change of membership. */
function given(work: WorkUnit[], before: Member[], options?: AssignmentOptions) {
  const first = assign(work, before, options);
  return {
    first,
    when(after: Member[]) {
      const second = assign(work, after, options);
      const moved = work.filter((u) => first.get(unitKey(u)) !== second.get(unitKey(u)));
      return { first, second, moved };
    },
  };
}

const counts = (owners: Map<string, string>) => [...owners.values()].reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());

describe("assignment by rendezvous hashing", () => {
  it("gives every unit exactly one owner among the live members", () => {
    const { first } = given(units(50), members("a", "b", "c"));
    expect(first.size).toBe(50);
    for (const owner of first.values()) expect(["a", "b", "c"]).toContain(owner);
  });

  it("spreads units evenly: each of 4 members gets 25% give or take 8 points of 400 units", () => {
    const { first } = given(units(100, 4), members("a", "b", "c", "d"));
    for (const n of counts(first).values()) expect(Math.abs(n - 100)).toBeLessThan(32);
  });

  it("is the same on every replica: the order of members and units does not matter", () => {
    const work = units(30);
    expect(assign([...work].reverse(), members("c", "a", "b"))).toEqual(assign(work, members("a", "b", "c")));
  });

  it("when a member joins, only about 1/N of the units move, and all of them to the newcomer", () => {
    const { moved, second } = given(units(100, 4), members("a", "b", "c", "d")).when(members("a", "b", "c", "d", "e"));
    expect(moved.length).toBeGreaterThan(400 / 5 - 30);
    expect(moved.length).toBeLessThan(400 / 5 + 30);
    for (const unit of moved) expect(second.get(unitKey(unit))).toBe("e");
  });

  it("when a member leaves, only its units move", () => {
    const { first, moved } = given(units(60), members("a", "b", "c")).when(members("a", "c"));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.map(unitKey).sort()).toEqual(units(60).filter((u) => first.get(unitKey(u)) === "b").map(unitKey).sort());
  });

  it("with no live member, nobody owns anything", () => {
    expect(assign(units(3), []).size).toBe(0);
  });

  it("unitsOf lists a member's share", () => {
    const work = units(10);
    const owners = assign(work, members("a", "b"));
    expect(unitsOf("a", work, owners).length + unitsOf("b", work, owners).length).toBe(10);
  });
});

describe("assignment by StatefulSet ordinal", () => {
  const byOrdinal = (replicas: number): AssignmentOptions => ({ byOrdinal: { replicas } });

  it("spreads exactly: unit i of the sorted units goes to ordinal i mod replicas", () => {
    const { first } = given(units(7), pods(0, 1, 2), byOrdinal(3));
    expect([...counts(first).values()].sort()).toEqual([2, 2, 3]);
  });

  it("a pod that is down has its units taken by the live ones, and gets the same units back under a new member id", () => {
    const work = units(6);
    const { first, when } = given(work, pods(0, 1), byOrdinal(2));
    const down = when(pods(0));
    expect(new Set(down.second.values())).toEqual(new Set([pods(0)[0]!.id]));
    const back = assign(work, [...pods(0), { id: "pod-1-restarted", ordinal: 1 }], byOrdinal(2));
    for (const unit of work) {
      const owner = first.get(unitKey(unit)) === pods(0)[0]!.id ? pods(0)[0]!.id : "pod-1-restarted";
      expect(back.get(unitKey(unit))).toBe(owner);
    }
  });

  it("without PROJECTOR_REPLICAS, the highest live ordinal sets the count", () => {
    expect([...counts(assign(units(6), pods(0, 1, 2), byOrdinal(0))).values()]).toEqual([2, 2, 2]);
  });

  it("two pods sharing an ordinal during a roll-out: each unit still has one owner", () => {
    const owners = assign(units(6), [...pods(0, 1), { id: "pod-1-new", ordinal: 1 }], byOrdinal(2));
    expect(owners.size).toBe(6);
  });
});
