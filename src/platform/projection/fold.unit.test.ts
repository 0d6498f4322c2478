import { RedisWrites } from "../core/redisWrites";
import type { RecordedEvent } from "../eventstore/types";
import { planBatch, writePlan } from "./fold";
import { ReadModelKeys } from "./keys";
import { EventFailure } from "./parked";
import type { DocumentProjection } from "./types";

/** A tally per id; `tags` puts the document in one index per tag, so a test chooses how many entries it has. */
interface Tally {
  n: number;
  tags: string[];
}

let position = 0;
function event(id: string, data: { add?: number; tags?: string[] } = {}): RecordedEvent {
  position += 1;
  return {
    eventId: `e-${position}`,
    streamId: `tally-${id}`,
    streamVersion: position,
    globalPosition: BigInt(position),
    position: { transactionId: 1n, globalPosition: BigInt(position) },
    type: "Counted",
    schemaVersion: 1,
    data: { id, ...data },
    metadata: { correlationId: "c", causationId: "c", actor: "test", recordedAt: "2026-12-07T00:00:00.000Z" },
  };
}

const dataOf = (e: RecordedEvent) => e.data as { id: string; add?: number; tags?: string[] };

const tallies: DocumentProjection<Tally> = {
  name: "tallies",
  eventTypes: ["Counted"],
  documentIds: (e) => [dataOf(e).id],
  evolve: (doc, e) => ({ n: (doc?.n ?? 0) + (dataOf(e).add ?? 1), tags: dataOf(e).tags ?? doc?.tags ?? [] }),
  indexes: (doc) => {
    if (doc.n > 10) throw new Error("over ten");
    return doc.tags.map((tag) => ({ index: `byTag:${tag}`, member: String(doc.n).padStart(3, "0") }));
  },
  topics: (id) => [`tally:${id}`],
};

const gen = new ReadModelKeys("t").generation("tallies", 1);

/** The index writes a plan stages, as `ZA index member` / `ZR index member`. */
function indexWrites(before: Map<string, Tally | null>, events: RecordedEvent[]): string[] {
  const writes = new RedisWrites();
  writePlan(writes, tallies, gen, before, planBatch(tallies, events, before, new Set()));
  const out: string[] = [];
  for (let i = 0; i < writes.args.length; ) {
    const [code, key] = [writes.args[i]!, writes.keys[Number(writes.args[i + 1]) - 1]!];
    const width = code === "D" ? 2 : 3;
    if (code === "ZA" || code === "ZR") out.push(`${code} ${key.slice(key.lastIndexOf(":byTag:") + 1)} ${writes.args[i + 2]}`);
    i += width;
  }
  return out.sort();
}

describe("planBatch", () => {
  it("folds every event of a document in order and hears one notification per topic", () => {
    const plan = planBatch(tallies, [event("a"), event("b"), event("a", { add: 2 })], new Map([["a", { n: 1, tags: [] }]]), new Set());
    expect(plan.after.get("a")).toEqual({ n: 4, tags: [] });
    expect(plan.after.get("b")).toEqual({ n: 1, tags: [] });
    expect(plan.ids.sort()).toEqual(["a", "b"]);
    expect(plan.notifications.map((n) => `${n.topic} ${n.message.document?.n}`)).toEqual(["tally:a 2", "tally:b 1", "tally:a 4"]);
    expect(plan.json.get("a")).toBe(JSON.stringify({ n: 4, tags: [] }));
  });

  it("leaves out skipped events and leaves documents no event touched out of the changes", () => {
    const first = event("a", { add: 5 });
    const plan = planBatch(tallies, [first, event("a")], new Map([["z", { n: 9, tags: [] }]]), new Set([first.eventId]));
    expect(plan.after.get("a")).toEqual({ n: 1, tags: [] });
    expect(plan.ids).toEqual(["a"]);
  });

  it("pins a failure in `indexes` on the event after which the document first failed, not the batch's last", () => {
    // a reaches 11 at its second event; the later events of a and b are not to blame.
    const culprit = event("a", { add: 6 });
    const events = [event("a", { add: 5 }), event("b"), culprit, event("b"), event("a")];
    let failure: unknown = null;
    try {
      planBatch(tallies, events, new Map(), new Set());
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(EventFailure);
    expect((failure as EventFailure).event.eventId).toBe(culprit.eventId);
  });
});

describe("writePlan's index changes", () => {
  const before = (tags: string[]) => new Map<string, Tally | null>([["a", { n: 1, tags }]]);

  it("adds and removes only the entries that changed (a few entries: the scan)", () => {
    expect(indexWrites(before(["x", "y"]), [event("a", { add: 0, tags: ["y", "z"] })])).toEqual(["ZA byTag:z 001", "ZR byTag:x 001"]);
  });

  it("does the same with many entries (the Set)", () => {
    const old = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const next = [...old.slice(2), "u1", "u2", "u3"];
    expect(indexWrites(before(old), [event("a", { add: 0, tags: next })])).toEqual([
      "ZA byTag:u1 001",
      "ZA byTag:u2 001",
      "ZA byTag:u3 001",
      "ZR byTag:t0 001",
      "ZR byTag:t1 001",
    ]);
  });

  it("moves every entry when the member changes, and writes nothing to indexes when nothing in them changed", () => {
    expect(indexWrites(before(["x"]), [event("a")])).toEqual(["ZA byTag:x 002", "ZR byTag:x 001"]);
    expect(indexWrites(before(["x"]), [event("a", { add: 0 })])).toEqual([]);
  });
});
