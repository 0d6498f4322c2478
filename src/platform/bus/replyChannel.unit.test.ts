import { isReplyChannel, newReplyChannel, parseReplyMessage } from "./replyChannel";

describe("reply channels", () => {
  const prefix = "eventline:bull";

  it("accepts only this prefix's reply channels, so a forged job cannot make a worker publish elsewhere", () => {
    expect(isReplyChannel(newReplyChannel(prefix), prefix)).toBe(true);
    expect(isReplyChannel(newReplyChannel("other:bull"), prefix)).toBe(false);
    expect(isReplyChannel("eventline:{products}:topic:products", prefix)).toBe(false);
    expect(isReplyChannel(`${prefix}:replies:not-a-uuid`, prefix)).toBe(false);
    expect(isReplyChannel(`${newReplyChannel(prefix)}x`, prefix)).toBe(false);
    expect(isReplyChannel(42, prefix)).toBe(false);
  });

  it("parses a reply, a notice and a failure, and nothing else", () => {
    expect(parseReplyMessage(JSON.stringify({ id: "j", reply: { ok: true } }))).toEqual({ id: "j", reply: { ok: true } });
    expect(parseReplyMessage(JSON.stringify({ id: "j", notice: { deferred: {} } }))).toEqual({ id: "j", notice: { deferred: {} } });
    expect(parseReplyMessage(JSON.stringify({ id: "j", failed: "boom" }))).toEqual({ id: "j", failed: "boom" });
    expect(parseReplyMessage(JSON.stringify({ reply: {} }))).toBeNull();
    expect(parseReplyMessage(JSON.stringify({ id: 1, failed: "x" }))).toBeNull();
    expect(parseReplyMessage("not json")).toBeNull();
  });
});
