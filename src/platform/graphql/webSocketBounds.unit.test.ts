import { GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { Principal } from "./auth";
import { startToyGraphQLServer } from "../../../test/support/toyGraphQLServer";
import type { RunningServer } from "./server";
import { WS_TOKEN_EXPIRED } from "./socketGuard";
import { WS_SLOW_READER } from "./wsTransport";

/**
 * The GraphQL server's WebSocket bounds, in-process with a toy schema: a
 * client that stops reading is closed at WS_MAX_BUFFERED_BYTES without
 * holding up anyone else; a token's expiry closes its socket and a client
 * that reconnects with a fresh token carries on; operations past the limit
 * are refused with a typed code.
 */
const MAX_BUFFERED = 64 * 1024;

/** Every `feed` subscription gets every published string; `open` counts those not yet ended. */
const feed = { listeners: new Set<(value: string) => void>(), open: 0 };
function publish(value: string): void {
  for (const listener of feed.listeners) listener(value);
}
function subscribeToFeed(): AsyncIterableIterator<string> {
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const listener = (value: string) => (queue.push(value), wake?.());
  feed.listeners.add(listener);
  feed.open++;
  const finish = () => {
    if (!done) {
      done = true;
      feed.open--;
      feed.listeners.delete(listener);
      wake?.();
    }
    return Promise.resolve({ done: true as const, value: undefined });
  };
  const iterator: AsyncIterableIterator<string> = {
    async next() {
      while (!done && queue.length === 0) await new Promise<void>((r) => (wake = r));
      return done ? { done: true, value: undefined } : { done: false, value: queue.shift()! };
    },
    return: finish,
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { hello: { type: GraphQLString, resolve: () => "hi" } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: { feed: { type: GraphQLString, subscribe: subscribeToFeed, resolve: (value: string) => value } },
  }),
});

/** "Bearer <name>" is the principal the test registered under that name. */
const principals = new Map<string, Principal>();
const token = (tokenId: string, expiresAt: number | null = null): Principal => ({ kind: "token", subject: tokenId, scopes: new Set(["query"]), expiresAt, tokenId });

let server: RunningServer;
beforeAll(async () => {
  server = await startToyGraphQLServer(schema, {
    authenticate: async (authorization) => principals.get(String(authorization).replace(/^Bearer /, "")) ?? { kind: "anonymous", subject: "anonymous" },
    webSocket: { maxPerSocket: 5, maxPerToken: 8, maxBufferedBytes: MAX_BUFFERED },
  });
});
afterAll(() => server.close());

/** A bare graphql-transport-ws connection, acknowledged, whose reading the test can pause. */
async function rawSocket(name: string) {
  const socket = new WebSocket(server.wsUrl, ["graphql-transport-ws"]);
  const messages: Array<{ id?: string; type: string; payload?: unknown }> = [];
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  socket.on("message", (data) => messages.push(JSON.parse(String(data)) as (typeof messages)[number]));
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${name}` } }));
  await until(() => messages.some((m) => m.type === "connection_ack"));
  const subscribe = (id: string, query = "subscription { feed }") => socket.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
  return { socket, messages, closed, subscribe };
}

async function until(condition: () => boolean, what = "the condition"): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

it("a client that stops reading is closed with 1013 once its buffer passes the bound; its subscriptions end and others are served", async () => {
  principals.set("slow", token("slow"));
  principals.set("fast", token("fast"));
  const slow = await rawSocket("slow");
  for (let i = 1; i <= 5; i++) slow.subscribe(`s${i}`);
  const fast = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: "Bearer fast" } });
  let fastReceived = 0;
  const stopFast = fast.subscribe({ query: "subscription { feed }" }, { next: () => void fastReceived++, error: () => undefined, complete: () => undefined });
  await until(() => feed.open === 6, "six subscriptions");
  slow.socket.pause();

  // The kernel's socket buffers take a few MB first; then the server's own buffer fills.
  const chunk = "x".repeat(16 * 1024);
  let published = 0;
  while (feed.open === 6 && published < 2000) {
    publish(chunk);
    published++;
    await new Promise((r) => setImmediate(r));
  }
  expect(feed.open).toBe(1); // the slow socket's five ended; the fast client's goes on
  publish("after");
  published++;
  await until(() => fastReceived === published, "the fast client to receive everything");

  slow.socket.resume();
  expect(await slow.closed).toBe(WS_SLOW_READER);
  stopFast();
  await fast.dispose();
});

it("a socket whose token expires is closed with 4403; a client that reconnects with a fresh token carries on", async () => {
  let issued = 0;
  const fresh = () => {
    const name = `renewing-${++issued}`;
    principals.set(name, token(name, Date.now() + 300));
    return { authorization: `Bearer ${name}` };
  };
  const closes: number[] = [];
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 1, retryWait: async () => undefined, connectionParams: fresh });
  client.on("closed", (event) => void closes.push((event as { code: number }).code));
  const received: unknown[] = [];
  const stop = client.subscribe({ query: "subscription { feed }" }, { next: (v) => void received.push(v), error: () => undefined, complete: () => undefined });
  await until(() => closes.length >= 1, "the token to expire");
  expect(closes[0]).toBe(WS_TOKEN_EXPIRED);
  // The client called connectionParams again and resubscribed with the new token.
  await until(() => issued >= 2 && feed.open === 1, "the client to come back");
  publish("renewed");
  await until(() => received.length > 0, "a message after the reconnection");
  expect(received).toEqual([{ data: { feed: "renewed" } }]);
  stop();
  await client.dispose();
});

it("an operation past the limit is refused with TOO_MANY_SUBSCRIPTIONS; a completed one frees its place", async () => {
  principals.set("many", token("many"));
  const many = await rawSocket("many");
  for (let i = 1; i <= 6; i++) many.subscribe(`m${i}`);
  await until(() => many.messages.some((m) => m.id === "m6"));
  expect(many.messages.find((m) => m.id === "m6")).toEqual({
    id: "m6",
    type: "error",
    payload: [expect.objectContaining({ extensions: { code: "TOO_MANY_SUBSCRIPTIONS", limit: "WS_MAX_SUBSCRIPTIONS_PER_SOCKET", max: 5 } })],
  });
  many.socket.send(JSON.stringify({ id: "m1", type: "complete" }));
  await until(() => feed.open === 4, "m1 to end");
  many.subscribe("m7", "{ hello }");
  await until(() => many.messages.some((m) => m.id === "m7" && m.type === "complete"));
  expect(many.messages.filter((m) => m.id === "m7").map((m) => m.type)).toEqual(["next", "complete"]);
  many.socket.close();
  await many.closed;
  await until(() => feed.open === 0, "the subscriptions to end");
});
