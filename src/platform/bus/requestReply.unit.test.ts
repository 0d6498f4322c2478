import { z } from "zod";
import { DomainError, ErrorCode, NotFoundError, UnavailableError } from "../core/errors";
import { answer, okReply, refusalReply, type Reply, replyParser, unwrap } from "./reply";
import { type Exchange, RequestReply, RequestTimeoutError } from "./requestReply";

const total = z.object({ total: z.number() });
type Total = z.infer<typeof total>;

/**
 * A lane in memory: `put` stores the request, a reply is kept by id and
 * announced through the core, as a queue's events or a NOTIFY would.
 */
function memoryLane() {
  const core = new RequestReply<Total>();
  const replies = new Map<string, Reply<Total>>();
  const puts: string[] = [];
  const reads: string[] = [];
  const exchange = (id: string, extra: Partial<Exchange<Total>> = {}): Exchange<Total> => ({
    put: async () => {
      puts.push(id);
      return null;
    },
    read: async () => {
      reads.push(id);
      return replies.get(id) ?? null;
    },
    timeoutMs: 200,
    timedOut: () => new RequestTimeoutError(`no answer to ${id}`, { id }),
    ...extra,
  });
  /** Stores a reply; `announce: false` plays a lost notification. */
  const reply = (id: string, value: Reply<Total>, announce = true) => {
    replies.set(id, value);
    if (announce) core.hear(id, { reply: value });
  };
  return { core, exchange, reply, replies, puts, reads };
}

const soon = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the reply envelope", () => {
  it("carries an outcome across JSON and back", () => {
    const wire = JSON.stringify(okReply({ total: 3 }));
    expect(unwrap(replyParser(total)(wire))).toEqual({ total: 3 });
  });

  it("carries a refusal's code, message and details across JSON, thrown again as a DomainError", () => {
    const wire = JSON.stringify(refusalReply(new NotFoundError("projection", "products")));
    const rebuilt = (() => {
      try {
        unwrap(replyParser(total)(wire));
      } catch (error) {
        return error;
      }
    })();
    expect(rebuilt).toBeInstanceOf(DomainError);
    expect(rebuilt).toMatchObject({ code: ErrorCode.NOT_FOUND, message: "projection 'products' does not exist", details: { what: "projection", id: "products" } });
  });

  it("refuses a malformed reply with VALIDATION naming the field", () => {
    expect(() => replyParser(total)({ ok: true, outcome: { total: "3" } })).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION, details: expect.objectContaining({ field: "reply.outcome.total" }) }));
    expect(() => replyParser(total)("not json")).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION }));
  });

  it("answers a refusal, and throws what a lane may retry", async () => {
    await expect(answer(async () => ({ total: 1 }))).resolves.toEqual({ ok: true, outcome: { total: 1 } });
    await expect(answer(() => Promise.reject(new NotFoundError("order", "o-1")))).resolves.toMatchObject({ ok: false, error: { code: ErrorCode.NOT_FOUND } });
    await expect(answer(() => Promise.reject(new UnavailableError("PostgreSQL", "down")))).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await expect(answer(() => Promise.reject(new Error("a bug")))).rejects.toThrow("a bug");
  });
});

describe("waiting for a reply by id", () => {
  it("resolves with the reply heard for its id", async () => {
    const lane = memoryLane();
    const pending = lane.core.request("a", lane.exchange("a"));
    await soon();
    lane.reply("a", okReply({ total: 7 }));
    await expect(pending).resolves.toEqual({ ok: true, outcome: { total: 7 } });
    expect(lane.puts).toEqual(["a"]);
  });

  it("ignores a reply for another id, and times out with COMMAND_TIMEOUT", async () => {
    const lane = memoryLane();
    const pending = lane.core.request("a", lane.exchange("a", { timeoutMs: 100 }));
    await soon();
    lane.reply("b", okReply({ total: 1 }));
    await expect(pending).rejects.toBeInstanceOf(RequestTimeoutError);
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.COMMAND_TIMEOUT, message: "no answer to a", details: { id: "a" } });
  });

  it("answers a resend from the lane's earlier reply, without waiting", async () => {
    const lane = memoryLane();
    const earlier = okReply({ total: 2 });
    await expect(lane.core.request("a", lane.exchange("a", { put: async () => earlier }))).resolves.toBe(earlier);
    expect(lane.reads).toEqual([]);
  });

  it("finds a reply stored before it listened", async () => {
    const lane = memoryLane();
    lane.reply("a", okReply({ total: 4 }));
    await expect(lane.core.request("a", lane.exchange("a"))).resolves.toEqual({ ok: true, outcome: { total: 4 } });
  });

  it("re-reads on a change notice, and every pollMs when a notice is lost", async () => {
    const lane = memoryLane();
    const noticed = lane.core.request("a", lane.exchange("a", { timeoutMs: 1000 }));
    const polled = lane.core.request("b", lane.exchange("b", { timeoutMs: 1000, pollMs: 30 }));
    await soon();
    lane.reply("a", okReply({ total: 1 }), false);
    lane.core.hear(null, { changed: true }); // a notice without a key wakes every request
    lane.reply("b", okReply({ total: 2 }), false);
    await expect(noticed).resolves.toEqual({ ok: true, outcome: { total: 1 } });
    await expect(polled).resolves.toEqual({ ok: true, outcome: { total: 2 } });
  });

  it("rejects with a failure the lane heard, or a notice the request turns into its answer", async () => {
    const lane = memoryLane();
    const failed = lane.core.request("a", lane.exchange("a"));
    const deferred = lane.core.request("b", lane.exchange("b", { onNotice: (n) => (n === "deferred" ? new UnavailableError("PostgreSQL", n) : undefined) }));
    await soon();
    lane.core.hear("a", { failure: new UnavailableError("the inventory service", "attempts used up") });
    lane.core.hear("b", { notice: "progress 50%" }); // ignored
    lane.core.hear("b", { notice: "deferred" });
    await expect(failed).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE, message: "the inventory service is unavailable" });
    await expect(deferred).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE, message: "PostgreSQL is unavailable" });
  });

  it("hands one reply to every caller waiting for the same id", async () => {
    const lane = memoryLane();
    const first = lane.core.request("a", lane.exchange("a"));
    const second = lane.core.request("a", lane.exchange("a"));
    await soon();
    lane.reply("a", okReply({ total: 9 }));
    await expect(Promise.all([first, second])).resolves.toEqual([okReply({ total: 9 }), okReply({ total: 9 })]);
  });
});
