import { Redis } from "ioredis";
import { WebSocket } from "ws";

/**
 * The fanout benchmark's subscribers and publisher, in a process of their own
 * (so that the server's CPU is measured alone), driven by the benchmark over
 * IPC (bench/lib/fanoutDriver.ts). It opens N sockets to one server, either
 * graphql-ws subscriptions or plain sockets, and publishes changes on a Redis
 * channel at a fixed rate. Publish and receipt times come from this process's
 * clock, so latency is publish → receipt without clock skew. A receipt is
 * matched to its change by the position in the message (`"position":"1.<seq>"`,
 * found without parsing the JSON, which both kinds of message carry), and
 * latencies go into 0.1 ms buckets.
 */
export type FanoutCommand =
  | { cmd: "open"; url: string; n: number; kind: "graphql" | "bare"; query: string }
  | { cmd: "warm"; redisUrl: string; channel: string; timeoutMs: number }
  | { cmd: "run"; redisUrl: string; channel: string; rate: number; seconds: number; drainMs: number }
  | { cmd: "close" };

export interface RunStats {
  published: number;
  delivered: number;
  expected: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  closedSockets: number;
}

const BUCKET_MS = 0.1;
const BUCKETS = 600_000; // up to 60 s
const TIMES = 1 << 20;

let sockets: WebSocket[] = [];
let seq = 0;
const publishedAt = new Float64Array(TIMES);
let histogram = new Uint32Array(BUCKETS);
let delivered = 0;
let lastReceipt = 0;
let closed = 0;
let heard = new Set<WebSocket>();
const POSITION = /"position":"1\.(\d+)"/;

function onMessage(socket: WebSocket, data: Buffer): void {
  const match = POSITION.exec(data.toString("latin1"));
  if (!match) return;
  const now = performance.now();
  const at = publishedAt[Number(match[1]) % TIMES]!;
  if (at === 0) return;
  heard.add(socket);
  delivered++;
  lastReceipt = now;
  histogram[Math.min(BUCKETS - 1, Math.floor((now - at) / BUCKET_MS))]!++;
}

async function open(url: string, n: number, kind: "graphql" | "bare", query: string): Promise<number> {
  const connectOne = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = kind === "graphql" ? new WebSocket(url, "graphql-transport-ws") : new WebSocket(url);
      const timer = setTimeout(() => reject(new Error(`socket to ${url} not ready within 60 s`)), 60_000);
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("close", () => closed++);
      socket.once("open", () => {
        if (kind === "bare") {
          clearTimeout(timer);
          socket.on("message", (data: Buffer) => onMessage(socket, data));
          return resolve(socket);
        }
        socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
        socket.once("message", (first: Buffer) => {
          clearTimeout(timer);
          if (!first.toString().includes("connection_ack")) return reject(new Error(`no connection_ack: ${first.toString().slice(0, 200)}`));
          socket.on("message", (data: Buffer) => onMessage(socket, data));
          socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
          resolve(socket);
        });
      });
    });
  for (let i = 0; i < n; i += 100) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, connectOne))));
  }
  return sockets.length;
}

function change(n: number): string {
  const sku = `FAN-${n % 100}`;
  return JSON.stringify({
    projection: "products",
    id: sku,
    document: { sku, name: `Product ${sku}`, available: n, reserved: 0, inStock: true },
    eventType: "StockRestocked",
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    streamVersion: n,
    position: `1.${n}`,
  });
}

async function publish(redis: Redis, channel: string): Promise<void> {
  const n = ++seq;
  publishedAt[n % TIMES] = performance.now();
  await redis.publish(channel, change(n));
}

/** Publishes until every socket has received a change: every subscription is then live on the server's side. */
async function warm(redisUrl: string, channel: string, timeoutMs: number): Promise<number> {
  const redis = new Redis(redisUrl);
  heard = new Set();
  try {
    for (const deadline = Date.now() + timeoutMs; heard.size < sockets.length && Date.now() < deadline; ) {
      await publish(redis, channel);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await redis.quit();
  }
  await new Promise((r) => setTimeout(r, 500)); // what was published during warm-up arrives before the run
  return heard.size;
}

async function run(redisUrl: string, channel: string, rate: number, seconds: number, drainMs: number): Promise<RunStats> {
  const redis = new Redis(redisUrl);
  histogram = new Uint32Array(BUCKETS);
  delivered = 0;
  const closedBefore = closed;
  const due = Math.round(rate * seconds);
  let published = 0;
  const started = performance.now();
  try {
    while (published < due) {
      const shouldHave = Math.min(due, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
      const batch: Promise<void>[] = [];
      for (; published < shouldHave; published++) batch.push(publish(redis, channel));
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    await redis.quit();
  }
  // Sockets whose subscription never went live during the warm-up are reported by the benchmark, not expected here.
  const expected = due * heard.size;
  // Drain: until every change has arrived everywhere, or nothing new came for 3 s (a loaded server
  // stalls for a second at times), or drainMs.
  for (const deadline = performance.now() + drainMs; delivered < expected && performance.now() < deadline; ) {
    if (performance.now() - lastReceipt > 3000 && performance.now() - started > seconds * 1000 + 3000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const end = delivered > 0 ? lastReceipt : performance.now();
  return { published, delivered, expected, seconds: (end - started) / 1000, ...percentiles(), closedSockets: closed - closedBefore };
}

function percentiles(): { p50: number; p99: number; max: number } {
  const at = (q: number) => {
    const rank = Math.ceil(q * delivered);
    let sum = 0;
    for (let b = 0; b < BUCKETS; b++) {
      sum += histogram[b]!;
      if (sum >= rank) return (b + 0.5) * BUCKET_MS;
    }
    return NaN;
  };
  let max = 0;
  for (let b = BUCKETS - 1; b >= 0; b--) if (histogram[b]) {
    max = (b + 1) * BUCKET_MS;
    break;
  }
  return { p50: at(0.5), p99: at(0.99), max };
}

function closeAll(): void {
  sockets.forEach((s) => s.terminate());
  sockets = [];
}

process.on("message", (message: FanoutCommand) => {
  const reply = (value: unknown) => process.send?.({ ok: true, value });
  const fail = (error: unknown) => process.send?.({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  switch (message.cmd) {
    case "open":
      open(message.url, message.n, message.kind, message.query).then(reply, fail);
      break;
    case "warm":
      warm(message.redisUrl, message.channel, message.timeoutMs).then(reply, fail);
      break;
    case "run":
      run(message.redisUrl, message.channel, message.rate, message.seconds, message.drainMs).then(reply, fail);
      break;
    case "close":
      closeAll();
      reply(null);
      break;
  }
});
process.on("disconnect", () => process.exit(0));
