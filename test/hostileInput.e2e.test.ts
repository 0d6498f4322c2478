import WebSocket from "ws";
import { StockLevelsDocument } from "./graphql/generated";
import { bearer, JWT_CLAIMS_ENV, TEST_CLAIMS, token } from "./support/auth";
import { collect, connectionOutcome, gql, wsClient } from "./support/graphqlClient";
import { type HostileCase, hostileCorpus, type HttpCase, type WsCase } from "./support/hostileCorpus";
import { eventually, startSystem, type RunningSystem } from "./support/system";
import { untilSubscribed } from "./support/testEnv";

/**
 * Bad input: a generated corpus of hostile and malformed requests. Each gets
 * a typed GraphQL error (extensions.code) or a 4xx, the server stays up and
 * serving, and nothing is appended to the log.
 */
let system: RunningSystem;
let auth: Record<string, string>;
let eventsBefore: number;
let corpus: HostileCase[];

const eventCount = async () => Number((await system.db.pool.query("SELECT count(*) FROM events")).rows[0].count);

beforeAll(async () => {
  system = await startSystem(["api", "projector", "saga", "inventory", "ordering", "payments"], { ...JWT_CLAIMS_ENV, READ_WAIT_MAX_MS: "200" });
  auth = bearer(await token("fuzzer", "command:inventory command:ordering command:payments query admin", TEST_CLAIMS));
  await gql(system.url, `mutation { defineProduct(input: { sku: "TEA-1", name: "Tea", priceMinor: 100, currency: "EUR", initialStock: 5 }) { position } }`, {}, auth);
  await gql(system.url, `mutation { openAccount(customerId: "ada", currency: "EUR", initialBalanceMinor: 1000) { position } }`, {}, auth);
  const cursor = await eventually(async () => {
    const { data } = await gql(system.url, `{ products(first: 1) { edges { cursor } } }`, {}, auth);
    return (data?.products as { edges: Array<{ cursor: string }> } | undefined)?.edges[0]?.cursor;
  }, "the product to be readable");
  corpus = hostileCorpus(cursor);
  eventsBefore = await eventCount();
}, 60_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

interface Verdict {
  ok: boolean;
  /** HTTP status, or the WebSocket close code. */
  status: number | string;
  codes: string[];
  message: string;
}

type ErrorBody = { errors?: Array<{ message?: string; extensions?: { code?: unknown } }> } | null;

async function sendHttp(c: HttpCase): Promise<Verdict> {
  const headers = { ...(c.anonymous ? {} : auth), ...(c.body instanceof Buffer ? {} : { "content-type": "application/json" }), ...c.headers };
  const body = c.method === "GET" ? undefined : typeof c.body === "string" || c.body instanceof Buffer ? c.body : JSON.stringify(c.body);
  const response = await fetch(`${system.url}${c.method === "GET" ? `?${c.search ?? ""}` : ""}`, { method: c.method ?? "POST", headers, body });
  const text = await response.text();
  let json: ErrorBody | null = null;
  try {
    json = JSON.parse(text) as ErrorBody;
  } catch {
    json = null;
  }
  const errors = json?.errors ?? [];
  const codes = errors.map((e) => String(e.extensions?.code ?? "none"));
  const typed = errors.length > 0 && codes.every((code) => code !== "none" && code !== "INTERNAL");
  // Node itself answers an oversized header block (431) before any handler runs: a 4xx without a body.
  const bareRefusal = response.status === 431;
  return {
    ok: response.status < 500 && (typed || bareRefusal) && (response.status >= 400 || typed),
    status: response.status,
    codes,
    message: errors[0]?.message ?? text.slice(0, 200),
  };
}

/** Opens a connection, sends the frames, and waits for the server's verdict: a typed error, or a 4xxx / 1009 close. */
function sendWs(c: WsCase): Promise<Verdict> {
  return new Promise((resolve) => {
    const protocol = c.protocol ?? "graphql-transport-ws";
    const socket = new WebSocket(system.url.replace(/^http/, "ws"), protocol ? [protocol] : []);
    let settled = false;
    const finish = (verdict: Verdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
      resolve(verdict);
    };
    const timer = setTimeout(() => finish({ ok: false, status: "no answer in 5 s", codes: [], message: "" }), 5000);
    const sendFrames = () => c.frames.forEach((frame) => socket.send(frame));
    socket.on("open", () => {
      if (c.init === false) return sendFrames();
      socket.send(JSON.stringify({ type: "connection_init", payload: c.init ?? auth }));
    });
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === "connection_ack") return sendFrames();
      if (message.type !== "error" && message.type !== "next") return;
      const errors = (message.type === "error" ? message.payload : (message.payload as { errors?: unknown }).errors) as
        | Array<{ message: string; extensions?: { code?: unknown } }>
        | undefined;
      const codes = (errors ?? []).map((e) => String(e.extensions?.code ?? "none"));
      finish({
        ok: !!errors?.length && codes.every((code) => code !== "none" && code !== "INTERNAL"),
        status: message.type,
        codes,
        message: errors?.[0]?.message ?? JSON.stringify(message.payload).slice(0, 200),
      });
    });
    socket.on("close", (code, reason) => {
      finish({ ok: (code >= 4400 && code < 4500) || code === 1009, status: code, codes: [], message: reason.toString() });
    });
    socket.on("error", () => undefined); // the close event follows
  });
}

it("the corpus is large and covers every kind of bad input", () => {
  expect(corpus.length).toBeGreaterThanOrEqual(200);
  expect(new Set(corpus.map((c) => c.category))).toEqual(
    new Set([
      "malformed JSON", "media type", "request shape", "syntax", "wrong types", "orders", "huge input", "unknown ids",
      "pagination", "cursors", "deep", "wide", "aliases", "directives", "fragments", "oversized", "auth", "websocket",
    ]),
  );
});

it("every hostile request is refused with a typed error or a 4xx, and the refusal names the limit it hit", async () => {
  const failures: Array<{ case: string; verdict: Verdict }> = [];
  const counts = new Map<string, number>();
  for (const c of corpus) {
    const verdict = c.kind === "http" ? await sendHttp(c) : await sendWs(c);
    const namesLimit = !c.expect || c.expect.test(verdict.message);
    if (!verdict.ok || !namesLimit) failures.push({ case: `${c.category}: ${c.name}`, verdict });
    counts.set(`${c.kind} ${verdict.status}`, (counts.get(`${c.kind} ${verdict.status}`) ?? 0) + 1);
  }
  expect(failures).toEqual([]);
  // Both ways of refusing are exercised: GraphQL errors and 4xx statuses, over HTTP and WebSocket.
  expect([...counts.keys()].some((k) => /^http 4\d\d$/.test(k))).toBe(true);
  expect([...counts.keys()].some((k) => k === "http 200")).toBe(true);
  expect([...counts.keys()].some((k) => /^ws 44\d\d$/.test(k))).toBe(true);
  expect([...counts.keys()].some((k) => k === "ws error" || k === "ws next")).toBe(true);
}, 120_000);

/** Bytes of command payloads the queues hold in Redis (every job's data), for every service. */
async function queuedCommandBytes(): Promise<number> {
  let cursor = "0";
  let bytes = 0;
  do {
    const [next, keys] = await system.redis.scan(cursor, "MATCH", `${system.prefix}:{q:commands.*}:*`, "COUNT", 1000);
    cursor = next;
    for (const key of keys) {
      if ((await system.redis.type(key)) === "hash") bytes += Number(await system.redis.hstrlen(key, "data"));
    }
  } while (cursor !== "0");
  return bytes;
}

it("nothing was appended, nothing failed inside, and the server stays up and serving", async () => {
  expect(await eventCount()).toBe(eventsBefore);
  // Refused at the edge, before any queue: the corpus's huge names and NUL strings left no job behind
  // (before, each refused 98 KB defineProduct stayed in Redis for 7 days). Only the setup's commands are queued.
  expect(await queuedCommandBytes()).toBeLessThan(20_000);
  const api = system.role("api");
  expect(api.child.exitCode).toBeNull();
  expect(api.output()).not.toMatch(/internal error/);

  const { data } = await gql(system.url, `{ product(id: "TEA-1") { sku available reserved } }`, {}, auth);
  expect(data).toEqual({ product: { sku: "TEA-1", available: 5, reserved: 0 } });

  expect(await connectionOutcome(system.url.replace(/^http/, "ws"), auth)).toBe("acknowledged");
  const client = wsClient(system.url.replace(/^http/, "ws"), auth);
  const stock = collect(client, StockLevelsDocument);
  await untilSubscribed(system.redis, system.prefix, "stock-levels");
  const restocked = await gql(system.url, `mutation { restockProduct(sku: "TEA-1", quantity: 2) { events } }`, {}, auth);
  expect(restocked).toEqual({ data: { restockProduct: { events: ["StockRestocked"] } } });
  const [level] = await stock.until(1);
  expect(level!.stockLevels).toMatchObject({ sku: "TEA-1", available: 7, eventType: "StockRestocked" });
  stock.stop();
  await client.dispose();
});
