import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, type NormalizedCacheObject } from "@apollo/client";

/**
 * A real Apollo Client with a default InMemoryCache (no typePolicies, no
 * possibleTypes): what a client that knows nothing about our schema gets.
 * `before` runs for every operation, e.g. to set a header or an extension.
 */
export function apolloClient(
  url: string,
  options: { headers?: Record<string, string>; before?: (operation: ApolloLink.Operation) => void } = {},
): { client: ApolloClient; cache: InMemoryCache } {
  const prepare = new ApolloLink((operation, forward) => {
    options.before?.(operation);
    return forward(operation);
  });
  const cache = new InMemoryCache();
  const client = new ApolloClient({ cache, link: ApolloLink.from([prepare, new HttpLink({ uri: url, headers: options.headers ?? {} })]) });
  return { client, cache };
}

export type CacheContents = NormalizedCacheObject;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every object stored inline (not as a `{ __ref }`) anywhere in the cache, with the path where it sits. */
export function inlineObjects(contents: CacheContents): Array<{ path: string; typename: string }> {
  const found: Array<{ path: string; typename: string }> = [];
  const walk = (value: Json, path: string, top: boolean): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`, false));
    if (value === null || typeof value !== "object") return;
    if (!top && typeof value["__typename"] === "string") found.push({ path, typename: value["__typename"] });
    for (const [key, v] of Object.entries(value)) walk(v, `${path}.${key}`, false);
  };
  for (const [id, record] of Object.entries(contents)) walk(record as Json, id, true);
  return found;
}
