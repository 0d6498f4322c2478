import { ApolloClient, ApolloLink, InMemoryCache, type OperationVariables } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import type { DocumentNode } from "graphql";
import { createClient, type Client, type ExecutionResult } from "graphql-ws";
import { map } from "rxjs";
import WebSocket from "ws";

/*
 * The client side of resumable feeds, as README.md ("Feeds that resume") shows it;
 * test/subscriptionResume.e2e.test.ts runs this code across API restarts and crashes.
 */

/** A graphql-ws client that reconnects for ever, whatever closed the socket (a restart, a crash, a cut). */
export function reconnectingClient(url: string, retryWait?: (retries: number) => Promise<void>): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket, // not needed in a browser
    retryAttempts: Infinity,
    shouldRetry: () => true,
    ...(retryWait ? { retryWait } : {}),
  });
}

/**
 * The same client over several API replicas: each connection attempt goes to
 * the next url, so when its replica dies the retry lands on another one.
 * `follow` resubscribes there after the last position it saw, and the change
 * log in Redis is shared, so nothing is missed. `urls` may change between
 * attempts (a replica restarted on a new address); `connectedTo` tells which
 * one each connection reached.
 */
export function failoverClient(
  urls: readonly string[] | (() => readonly string[]),
  options: { first?: number; retryWait?: (retries: number) => Promise<void>; connectedTo?: (url: string) => void } = {},
): Client {
  const list = typeof urls === "function" ? urls : () => urls;
  let next = options.first ?? 0;
  let tried = "";
  const client = createClient({
    url: () => {
      const current = list();
      tried = current[next++ % current.length]!;
      return tried;
    },
    webSocketImpl: WebSocket, // not needed in a browser
    retryAttempts: Infinity,
    shouldRetry: () => true,
    ...(options.retryWait ? { retryWait: options.retryWait } : {}),
  });
  const { connectedTo } = options;
  if (connectedTo) client.on("connected", () => connectedTo(tried));
  return client;
}

type Change = { position: string };
type ResumeError = { message: string; extensions?: Readonly<Record<string, unknown>> };

/**
 * Follows `field` from `after` on. graphql-ws sends this same payload object
 * again on every reconnect, so keeping the last position in its variables is
 * all it takes to resume where the feed stopped: no gap, no repeat.
 */
export function follow<T extends Change>(
  client: Client,
  query: string,
  field: string,
  after: string | null,
  handlers: { change: (change: T) => void; failed: (error: ResumeError) => void },
): () => void {
  const payload = { query, variables: { after } };
  return client.subscribe<Record<string, T>>(payload, {
    next: (result: ExecutionResult<Record<string, T>>) => {
      // E.g. RESUME_WINDOW_EXCEEDED: refetch the state, then follow from extensions.oldest or later.
      const [error] = result.errors ?? [];
      if (error) return handlers.failed({ message: error.message, ...(error.extensions ? { extensions: error.extensions } : {}) });
      const change = result.data?.[field];
      if (!change) return;
      payload.variables.after = change.position;
      handlers.change(change);
    },
    error: (error) => handlers.failed({ message: String(error) }),
    complete: () => undefined,
  });
}

/**
 * Apollo Client: a link in front of GraphQLWsLink that moves each
 * subscription's `after` to the position of its last payload. GraphQLWsLink
 * hands these very variables to graphql-ws, which resends them on reconnect.
 */
export const resumeLink = new ApolloLink((operation, forward) => {
  const variables: OperationVariables = (operation.variables = { ...operation.variables });
  return forward(operation).pipe(
    map((result) => {
      for (const value of Object.values(result.data ?? {})) {
        if (typeof value === "object" && value !== null && "position" in value && typeof value.position === "string") variables.after = value.position;
      }
      return result;
    }),
  );
});

export function apolloClient(client: Client): ApolloClient {
  return new ApolloClient({ link: ApolloLink.from([resumeLink, new GraphQLWsLink(client)]), cache: new InMemoryCache() });
}

/** Follows a subscription with Apollo Client; `after` starts the feed and then tracks it (resumeLink). */
export function followWithApollo<T extends Change>(apollo: ApolloClient, query: DocumentNode, field: string, after: string | null, onChange: (change: T) => void) {
  const subscription = apollo.subscribe<Record<string, T>>({ query, variables: { after }, fetchPolicy: "no-cache" }).subscribe(({ data }) => {
    const change = data?.[field];
    if (change) onChange(change);
  });
  return () => subscription.unsubscribe();
}
