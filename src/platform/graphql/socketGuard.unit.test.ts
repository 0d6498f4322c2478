import type { Principal } from "./auth";
import { SocketGuard, WS_TOKEN_EXPIRED } from "./socketGuard";

const token = (tokenId: string, expiresAt: number | null = null): Principal => ({ kind: "token", subject: "alice", scopes: new Set(["query"]), expiresAt, tokenId });
const codeOf = (refusal: { code: string } | null) => refusal?.code ?? null;

/** A socket as graphql-ws's context object, and the close codes it was ended with. */
function socket(guard: SocketGuard, principal: Principal) {
  const ended: number[] = [];
  const key = {};
  guard.admit(key, principal, (code) => ended.push(code));
  return { key, ended, enter: (op: object = {}) => guard.enter(key, op) };
}

afterEach(() => jest.useRealTimers());

describe("limits", () => {
  it("refuses the operation past the per-socket limit with TOO_MANY_SUBSCRIPTIONS, naming the variable; a finished one frees its place", () => {
    const guard = new SocketGuard({ maxPerSocket: 3, maxPerToken: 100 });
    const a = socket(guard, token("t1"));
    const ops = [{}, {}, {}];
    for (const op of ops) expect(a.enter(op)).toBeNull();
    const refused = a.enter();
    expect(refused).toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", details: { limit: "WS_MAX_SUBSCRIPTIONS_PER_SOCKET", max: 3 } });
    expect(refused!.message).toMatch(/at most 3 \(WS_MAX_SUBSCRIPTIONS_PER_SOCKET\)/);
    guard.leave(a.key, ops[0]!);
    guard.leave(a.key, ops[0]!); // twice: still one place
    expect(a.enter()).toBeNull();
    expect(codeOf(a.enter())).toBe("TOO_MANY_SUBSCRIPTIONS");
  });

  it("counts a token across its sockets, and gives a closed socket's places back", () => {
    const guard = new SocketGuard({ maxPerSocket: 10, maxPerToken: 4 });
    const a = socket(guard, token("t1"));
    const b = socket(guard, token("t1"));
    const other = socket(guard, token("t2"));
    for (let i = 0; i < 3; i++) expect(a.enter()).toBeNull();
    expect(b.enter()).toBeNull();
    expect(b.enter()).toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", details: { limit: "WS_MAX_SUBSCRIPTIONS_PER_TOKEN", max: 4 } });
    expect(other.enter()).toBeNull(); // another token has its own count
    guard.close(a.key);
    expect(guard.inFlight("t1")).toBe(1);
    for (let i = 0; i < 3; i++) expect(b.enter()).toBeNull();
    expect(codeOf(b.enter())).toBe("TOO_MANY_SUBSCRIPTIONS");
    guard.close(b.key);
    guard.close(b.key);
    expect(guard.inFlight("t1")).toBe(0);
  });

  it("an id reused before its first operation finished cannot hide an operation from the count", () => {
    const guard = new SocketGuard({ maxPerSocket: 2, maxPerToken: 100 });
    const a = socket(guard, token("t1"));
    // graphql-ws passes each subscribe message's own payload object: two operations under id "1" are two entries.
    const first = { query: "subscription { stockLevels { sku } }" };
    const second = { query: "subscription { stockLevels { sku } }" };
    expect(a.enter(first)).toBeNull();
    expect(a.enter(second)).toBeNull();
    guard.leave(a.key, first);
    expect(a.enter()).toBeNull();
    expect(codeOf(a.enter())).toBe("TOO_MANY_SUBSCRIPTIONS");
  });

  it("dev mode has no tokens: only the per-socket limit applies", () => {
    const guard = new SocketGuard({ maxPerSocket: 2, maxPerToken: 1 });
    const dev: Principal = { kind: "dev", subject: "dev" };
    const a = socket(guard, dev);
    const b = socket(guard, dev);
    expect([a.enter(), a.enter(), b.enter(), b.enter()]).toEqual([null, null, null, null]);
    expect(codeOf(a.enter())).toBe("TOO_MANY_SUBSCRIPTIONS");
  });

  it("a closed socket admits nothing more", () => {
    const guard = new SocketGuard({ maxPerSocket: 2, maxPerToken: 2 });
    const a = socket(guard, token("t1"));
    guard.close(a.key);
    expect(codeOf(a.enter())).toBe("UNAVAILABLE");
    expect(codeOf(guard.enter({}, {}))).toBe("UNAVAILABLE"); // never admitted
  });
});

describe("expiry", () => {
  it("an operation sent once the token has expired is refused UNAUTHENTICATED, after which the socket closes with 4403", async () => {
    let now = 1_000_000;
    const guard = new SocketGuard({ maxPerSocket: 10, maxPerToken: 10 }, () => now);
    const a = socket(guard, token("t1", 1_005_000));
    expect(a.enter()).toBeNull();
    now = 1_005_000; // exp is exclusive, as jose has it
    for (let i = 0; i < 3; i++) expect(a.enter()).toMatchObject({ code: "UNAUTHENTICATED", message: expect.stringMatching(/expired/) });
    expect(guard.inFlight("t1")).toBe(0); // what it held is given back at once
    expect(a.ended).toEqual([]); // the refusal goes out first…
    await new Promise((r) => setImmediate(r));
    expect(a.ended).toEqual([WS_TOKEN_EXPIRED]); // …then the close, once
  });

  it("a socket whose token expires is closed with 4403 then, with no operation needed", async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ["setImmediate"] });
    const guard = new SocketGuard({ maxPerSocket: 10, maxPerToken: 10 });
    const a = socket(guard, token("t1", 1_003_000));
    const forever = socket(guard, token("t2", null));
    expect(a.enter()).toBeNull();
    jest.advanceTimersByTime(2_999);
    await new Promise((r) => setImmediate(r));
    expect(a.ended).toEqual([]);
    jest.advanceTimersByTime(1);
    await new Promise((r) => setImmediate(r));
    expect(a.ended).toEqual([WS_TOKEN_EXPIRED]);
    expect(codeOf(a.enter())).toBe("UNAUTHENTICATED");
    jest.advanceTimersByTime(365 * 24 * 3600 * 1000);
    expect(forever.ended).toEqual([]);
  });

  it("a token valid for longer than a timer can wait is looked at again, and closed when it does expire", async () => {
    jest.useFakeTimers({ now: 0, doNotFake: ["setImmediate"] });
    const guard = new SocketGuard({ maxPerSocket: 10, maxPerToken: 10 });
    const days40 = 40 * 24 * 3600 * 1000;
    const a = socket(guard, token("t1", days40));
    jest.advanceTimersByTime(days40 - 1);
    await new Promise((r) => setImmediate(r));
    expect(a.ended).toEqual([]);
    jest.advanceTimersByTime(1);
    await new Promise((r) => setImmediate(r));
    expect(a.ended).toEqual([WS_TOKEN_EXPIRED]);
  });

  it("closing a socket stops its expiry timer", async () => {
    jest.useFakeTimers({ now: 0, doNotFake: ["setImmediate"] });
    const guard = new SocketGuard({ maxPerSocket: 10, maxPerToken: 10 });
    const a = socket(guard, token("t1", 1000));
    guard.close(a.key);
    expect(jest.getTimerCount()).toBe(0);
  });
});
