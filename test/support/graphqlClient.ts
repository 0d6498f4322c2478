import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }>;
}

/** POSTs a typed operation and returns the whole response (data and errors). */
export async function execute<T, V>(
  url: string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Data of a successful operation; throws with the errors otherwise. */
export async function request<T, V>(
  url: string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<T> {
  const result = await execute(url, document, variables, headers);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** `connectionParams` carry the bearer token over WebSocket: `{ authorization: "Bearer …" }`. */
export function wsClient(url: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, ...(connectionParams ? { connectionParams } : {}) });
}

/** Collects the results of a subscription until `stop` is called. */
export function collect<T, V>(client: Client, document: TypedDocumentNode<T, V>, variables?: V) {
  const received: T[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const unsubscribe = client.subscribe<T>(
    { query: print(document), variables: variables as Record<string, unknown> | undefined },
    {
      next: (value) => {
        if (value.data) received.push(value.data as T);
        for (const w of [...waiters]) if (received.length >= w.count) w.resolve();
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  return {
    received,
    stop: unsubscribe,
    until(count: number, timeoutMs = 10_000): Promise<T[]> {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${received.length} of ${count} messages`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(received)) });
      });
    },
  };
}

export interface RawResponse {
  status: number;
  contentType: string;
  /** The parsed JSON body, or null when the body is not JSON. */
  json: GraphQLResponse<Record<string, unknown>> | null;
  text: string;
}

/** POSTs anything (a GraphQL request object, or a raw string sent as is) and returns status and body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: RawResponse["json"] = null;
  try {
    json = JSON.parse(text) as RawResponse["json"];
  } catch {
    json = null;
  }
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", json, text };
}

/** Runs a GraphQL operation given as text; the response, errors included. */
export async function gql(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<Record<string, unknown>>> {
  const response = await post(url, { query, variables }, headers);
  if (!response.json) throw new Error(`not JSON (HTTP ${response.status}): ${response.text.slice(0, 200)}`);
  return response.json;
}

/**
 * Subscribes over a fresh connection and reports how it ended: the close code when the server
 * closed it, or "acknowledged" once it was accepted (the connection is then closed by us).
 */
export async function connectionOutcome(url: string, connectionParams?: Record<string, unknown>): Promise<number | "acknowledged"> {
  const client = wsClient(url, connectionParams);
  try {
    return await new Promise<number | "acknowledged">((resolve) => {
      client.on("connected", () => resolve("acknowledged"));
      client.on("closed", (event) => resolve((event as { code: number }).code));
      client.subscribe({ query: "subscription { stockLevels { sku } }" }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    });
  } finally {
    await client.dispose();
  }
}

export interface RawMessage {
  id?: string;
  type: string;
  payload?: unknown;
}

/**
 * A bare graphql-transport-ws connection, acknowledged: the test sends frames as it likes and may
 * stop reading (`socket.pause()`), as a hostile or stalled client would. `closed` is the close code.
 */
export async function rawGraphQLSocket(url: string, connectionParams: Record<string, unknown>) {
  const socket = new WebSocket(url, ["graphql-transport-ws"]);
  const messages: RawMessage[] = [];
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  socket.on("message", (data) => messages.push(JSON.parse(String(data)) as RawMessage));
  socket.on("error", () => undefined); // the close event follows
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("close", (code) => reject(new Error(`closed with ${code} before opening`)));
  });
  socket.send(JSON.stringify({ type: "connection_init", payload: connectionParams }));
  await new Promise<void>((resolve, reject) => {
    const check = () => (messages.some((m) => m.type === "connection_ack") ? resolve() : undefined);
    socket.on("message", check);
    socket.once("close", (code) => reject(new Error(`closed with ${code} before connection_ack`)));
  });
  return {
    socket,
    messages,
    closed,
    subscribe: (id: string, query: string, variables?: Record<string, unknown>) =>
      socket.send(JSON.stringify({ id, type: "subscribe", payload: { query, ...(variables ? { variables } : {}) } })),
    /** The first answer (next or error) to operation `id`, once it has come. */
    answer: (id: string) => messages.find((m) => m.id === id && (m.type === "next" || m.type === "error")),
  };
}
