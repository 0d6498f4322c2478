import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** POSTs a typed operation and returns the whole response (data and errors). */
export async function execute<T, V>(
  url: string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Data of a successful operation; throws with the errors otherwise. */
export async function request<T, V>(url: string, document: TypedDocumentNode<T, V>, variables?: V): Promise<T> {
  const result = await execute(url, document, variables);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export function wsClient(url: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
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
