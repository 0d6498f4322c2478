import { bullPrefix } from "../core/redis";
import { keySlot } from "../../../test/support/keySlot";
import { type ProjectionKeys, ReadModelKeys } from "./keys";

const keys = new ReadModelKeys("eventline");

/** Every key and channel one segment's atomic steps touch (the commit, the rebuild switch, the lock scripts, skip). */
function everyKeyOf(segment: ProjectionKeys): string[] {
  const generations = [1, 2, 17].map((g) => segment.generation(g));
  return [
    segment.activeGeneration(),
    segment.status(),
    segment.rebuildLock(),
    segment.rebuildProgress(),
    segment.skipped(),
    segment.changeLog(),
    segment.checkpointChannel(),
    segment.topic("order:o-1"),
    segment.topic("stock-levels"),
    ...generations.flatMap((gen) => [gen.checkpoint, gen.fence, gen.doc("TEA-1"), gen.doc("a{b}c"), gen.index("bySku"), gen.parked, gen.attempts]),
  ];
}

describe("slots of the read-side key layout", () => {
  it("computes slots as Redis does", () => {
    expect(keySlot("123456789")).toBe(0x31c3 % 16384); // CRC16-XMODEM's check value
    expect(keySlot("foo")).toBe(12182); // CLUSTER KEYSLOT foo
    expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"));
  });

  it("puts every key and channel of a projection in one slot, whatever documents it holds", () => {
    for (const name of ["products", "orders", "sales-dashboard", "sagas"]) {
      const slots = new Set(everyKeyOf(keys.projection(name)).map(keySlot));
      expect(slots.size).toBe(1);
    }
  });

  it("tags a projection of one segment {name}, and each of K segments {name#s}, each in one slot", () => {
    expect(keys.projection("products").activeGeneration()).toBe("eventline:{products}:active");
    expect(keys.projection("products", 2, 4).generation(3).doc("x")).toBe("eventline:{products#2}:3:doc:x");
    const segments = [0, 1, 2, 3].map((s) => keys.projection("products", s, 4));
    for (const segment of segments) expect(new Set(everyKeyOf(segment).map(keySlot)).size).toBe(1);
    expect(new Set(segments.map((s) => s.tag)).size).toBe(4);
    // Not every pair of tags must differ in slot, but four segments of one projection all in one slot would defeat the point.
    expect(new Set(segments.map((s) => keySlot(s.activeGeneration()))).size).toBeGreaterThan(1);
  });

  it("keeps the per-name shorthands on segment 0", () => {
    const one = keys.projection("orders");
    expect(keys.activeGeneration("orders")).toBe(one.activeGeneration());
    expect(keys.generation("orders", 4).checkpoint).toBe(one.generation(4).checkpoint);
    expect(keys.topic("orders", "orders")).toBe(one.topic("orders"));
    expect(keys.changeLog("orders")).toBe(one.changeLog());
    expect(keys.checkpointChannel("orders")).toBe(one.checkpointChannel());
  });

  it("tells a generation's keys from the projection's other keys under the same root", () => {
    const segment = keys.projection("products");
    expect(segment.generationOf(segment.generation(12).doc("x"))).toBe(12);
    expect(segment.generationOf(segment.activeGeneration())).toBeNull();
    expect(segment.generationOf(segment.rebuildProgress())).toBeNull();
    expect(segment.generationOf(keys.projection("other").generation(12).checkpoint)).toBeNull();
  });

  it("refuses projection names that would break the hash tag, and segments out of range", () => {
    expect(() => keys.projection("a{b}")).toThrow(/projection name/);
    expect(() => keys.projection("a#1")).toThrow(/projection name/);
    expect(() => keys.projection("p", 4, 4)).toThrow(/segment/);
    expect(() => keys.projection("p", 0, 0)).toThrow(/segments/);
  });
});

describe("slots of the BullMQ queues", () => {
  const queues = ["commands.ordering", "commands.inventory", "commands.payments", "projector", "projector-admin", "saga"];
  /** Keys BullMQ writes for a queue under a prefix: `<prefix>:<queue>:<suffix>` and `<prefix>:<queue>:<jobId>`. */
  const bullKeys = (queue: string) =>
    ["wait", "active", "events", "meta", "id", "delayed", "stalled", "de:drain:x", "123", "123:lock"].map((suffix) => `${bullPrefix("eventline", queue)}:${queue}:${suffix}`);

  it("keeps every key of one queue in one slot", () => {
    for (const queue of queues) expect(new Set(bullKeys(queue).map(keySlot)).size).toBe(1);
  });

  it("gives each queue a tag of its own, so queues spread over the masters", () => {
    const tags = queues.map((queue) => bullPrefix("eventline", queue));
    expect(new Set(tags).size).toBe(queues.length);
    expect(tags[0]).toBe("eventline:{q:commands.ordering}");
    expect(new Set(queues.map((queue) => keySlot(bullKeys(queue)[0]!))).size).toBeGreaterThan(1);
  });
});
