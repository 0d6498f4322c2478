import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { Principal } from "./auth";
import { startToyGraphQLServer } from "../../../test/support/toyGraphQLServer";
import type { RunningServer } from "./server";

/**
 * A subscription event is executed once for the subscribers that would get
 * the same result (sharedExecution.ts), and separately for those that would
 * not: another caller, other variables, another document.
 */
const listeners = new Set<(event: { n: number }) => void>();
let executions = 0;

function events(): AsyncIterableIterator<{ n: number }> {
  const queue: Array<{ n: number }> = [];
  let wake: (() => void) | null = null;
  const listener = (event: { n: number }) => (queue.push(event), wake?.());
  listeners.add(listener);
  const iterator: AsyncIterableIterator<{ n: number }> = {
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      return { done: false, value: queue.shift()! };
    },
    return: () => (listeners.delete(listener), Promise.resolve({ done: true, value: undefined })),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

const Event = new GraphQLObjectType({
  name: "Event",
  fields: {
    n: { type: GraphQLInt },
    times: { type: GraphQLInt, args: { by: { type: GraphQLInt } }, resolve: (event: { n: number }, args: { by?: number | null }) => event.n * (args.by ?? 1) },
    who: { type: GraphQLString, resolve: (_event, _args, ctx: { principal: Principal }) => ctx.principal.subject },
  },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { hello: { type: GraphQLString, resolve: () => "hi" } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      feed: {
        type: Event,
        subscribe: events,
        resolve: (event: { n: number }) => {
          executions++;
          return event;
        },
      },
    },
  }),
});

let server: RunningServer;
const clients: Client[] = [];
beforeAll(async () => {
  server = await startToyGraphQLServer(schema, {
    authenticate: async (authorization) => ({ kind: "token", subject: String(authorization), scopes: new Set(["query"]), expiresAt: null, tokenId: `${String(authorization)}-${Math.random()}` }),
    webSocket: { maxPerSocket: 5, maxPerToken: 50, maxBufferedBytes: 1024 * 1024 },
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await server.close();
});

/** A subscriber on its own socket, as `who`; resolves with what it received. */
function subscribe(who: string, query: string, variables: Record<string, unknown> = {}) {
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: who } });
  clients.push(client);
  const received: unknown[] = [];
  client.subscribe({ query, variables }, { next: (value) => void received.push(value.data), error: () => undefined, complete: () => undefined });
  return received;
}

it("executes an event once per distinct caller, document and variables, and each subscriber gets its own answer", async () => {
  const query = "subscription($by: Int) { feed { n times(by: $by) who } }";
  const ada1 = subscribe("ada", query, { by: 2 });
  const ada2 = subscribe("ada", query, { by: 2 }); // another socket and token of the same caller: shares
  const bob = subscribe("bob", query, { by: 2 });
  const adaOther = subscribe("ada", query, { by: 3 });
  const adaShort = subscribe("ada", "subscription { feed { n } }");
  for (let i = 0; i < 500 && listeners.size < 5; i++) await new Promise((r) => setTimeout(r, 10));
  expect(listeners.size).toBe(5);

  executions = 0;
  const event = { n: 7 };
  listeners.forEach((listener) => listener(event)); // one object for all, as the feeds hand it out
  for (let i = 0; i < 500 && [ada1, ada2, bob, adaOther, adaShort].some((r) => r.length === 0); i++) await new Promise((r) => setTimeout(r, 10));

  expect(ada1).toEqual([{ feed: { n: 7, times: 14, who: "ada" } }]);
  expect(ada2).toEqual([{ feed: { n: 7, times: 14, who: "ada" } }]);
  expect(bob).toEqual([{ feed: { n: 7, times: 14, who: "bob" } }]);
  expect(adaOther).toEqual([{ feed: { n: 7, times: 21, who: "ada" } }]);
  expect(adaShort).toEqual([{ feed: { n: 7 } }]);
  expect(executions).toBe(4); // ada1 and ada2 shared one

  listeners.forEach((listener) => listener({ n: 8 })); // a new event object: executed again
  for (let i = 0; i < 500 && ada1.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  expect(ada1.at(-1)).toEqual({ feed: { n: 8, times: 16, who: "ada" } });
});
