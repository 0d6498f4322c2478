import { gql as apolloGql, type ApolloClient, type ApolloLink, type InMemoryCache } from "@apollo/client";
import { apolloClient } from "./support/apolloClient";
import { gql, post, wsClient } from "./support/graphqlClient";
import { startSystem, type RunningSystem } from "./support/system";

/**
 * Read-your-writes that does not fragment client caches: the position may
 * travel beside the operation (an X-Eventline-Wait-For header, or
 * `extensions.waitFor`) instead of as a `waitFor` argument, which is part of
 * the field's cache identity.
 */
let system: RunningSystem;
const SKU = "RYW-1";
const FUTURE = "999999999.999999999"; // a position the log will not reach during this test
const READ_WAIT_MAX_MS = 2000;

const RESTOCK = apolloGql`mutation Restock($sku: String!) { restockProduct(sku: $sku, quantity: 1) { position } }`;
const PRODUCT = apolloGql`query Product($sku: ID!) { product(id: $sku) { id available } }`;
const PRODUCT_WAITING = apolloGql`query ProductWaiting($sku: ID!, $waitFor: String) { product(id: $sku, waitFor: $waitFor) { id available } }`;

beforeAll(async () => {
  system = await startSystem(["all"], { READ_WAIT_MAX_MS: String(READ_WAIT_MAX_MS) });
  const defined = await gql(system.url, `mutation { defineProduct(input: { sku: "${SKU}", name: "Tea", priceMinor: 100, currency: "EUR" }) { position } }`);
  expect(defined.errors).toBeUndefined();
  // Every test reads the product's stock first, without waiting: it must be projected by then.
  const position = (defined.data as { defineProduct: { position: string } }).defineProduct.position;
  expect((await gql(system.url, `{ product(id: "${SKU}", waitFor: "${position}") { sku } }`)).data).toEqual({ product: { sku: SKU } });
}, 120_000);

afterAll(async () => {
  const codes = await system.shutdown();
  expect(codes).toEqual([0]);
});

/** Restocks `times` times through `client`, reading the product after each write with `read`; returns what each read saw. */
async function restockAndRead(
  client: ApolloClient,
  times: number,
  read: (position: string) => Promise<{ available: number } | null | undefined>,
): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < times; i++) {
    const { data } = await client.mutate({ mutation: RESTOCK, variables: { sku: SKU } });
    const position = (data as { restockProduct: { position: string } }).restockProduct.position;
    seen.push((await read(position))?.available ?? -1);
  }
  return seen;
}

function productEntries(cache: InMemoryCache): string[] {
  return Object.keys(cache.extract()["ROOT_QUERY"] ?? {}).filter((k) => k.startsWith("product("));
}

async function available(): Promise<number> {
  const { data } = await gql(system.url, `{ product(id: "${SKU}") { available } }`);
  return (data as { product: { available: number } }).product.available;
}

it("the waitFor argument makes one root cache entry per position", async () => {
  const { client, cache } = apolloClient(system.url);
  const start = await available();
  const seen = await restockAndRead(client, 5, async (waitFor) => {
    const { data } = await client.query({ query: PRODUCT_WAITING, variables: { sku: SKU, waitFor }, fetchPolicy: "network-only" });
    return (data as { product: { available: number } }).product;
  });
  expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => start + n));
  expect(productEntries(cache)).toHaveLength(5); // the fragmentation the header and the extension avoid
  client.stop();
});

// The README's Apollo Client example, both ways: a link that puts the last position on every query.
for (const [how, setPosition] of [
  ["the X-Eventline-Wait-For header", (op: ApolloLink.Operation, position: string) => op.setContext(({ headers }) => ({ headers: { ...headers, "X-Eventline-Wait-For": position } }))],
  ["extensions.waitFor", (op: ApolloLink.Operation, position: string) => void (op.extensions["waitFor"] = position)],
] satisfies Array<[string, (op: ApolloLink.Operation, position: string) => void]>) {
  it(`${how} reads your own writes and keeps one cache entry`, async () => {
    let position = "";
    const { client, cache } = apolloClient(system.url, { before: (op) => void (position && op.operationType === "query" && setPosition(op, position)) });
    const start = await available();
    const seen = await restockAndRead(client, 20, async (written) => {
      position = written;
      const { data } = await client.query({ query: PRODUCT, variables: { sku: SKU }, fetchPolicy: "network-only" });
      return (data as { product: { available: number } }).product;
    });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => start + i + 1));
    expect(productEntries(cache)).toEqual(['product({"id":"RYW-1"})']);
    client.stop();
  });
}

it("the header and the extension are waited for: a position not reached yet is a CONSISTENCY_TIMEOUT", async () => {
  const query = `{ product(id: "${SKU}") { available } }`;
  const codes = await Promise.all([
    post(system.url, { query }, { "X-Eventline-Wait-For": FUTURE }),
    post(system.url, { query, extensions: { waitFor: FUTURE } }),
    // With an argument too, a read waits for the latest of them.
    post(system.url, { query: `{ product(id: "${SKU}", waitFor: "1.1") { available } }` }, { "X-Eventline-Wait-For": FUTURE }),
  ]);
  for (const response of codes) {
    expect(response.json?.errors?.map((e) => [e.extensions?.["code"], e.extensions?.["timeoutMs"]])).toEqual([["CONSISTENCY_TIMEOUT", READ_WAIT_MAX_MS]]);
  }
});

it("a malformed position is a VALIDATION error naming where it came from, over HTTP and WebSocket", async () => {
  const query = `{ product(id: "${SKU}") { available } }`;
  const field = async (response: ReturnType<typeof post>) => (await response).json?.errors?.map((e) => [e.extensions?.["code"], e.extensions?.["field"]]);
  expect(await field(post(system.url, { query }, { "X-Eventline-Wait-For": "soon" }))).toEqual([["VALIDATION", "X-Eventline-Wait-For header"]]);
  expect(await field(post(system.url, { query, extensions: { waitFor: 12 } }))).toEqual([["VALIDATION", "extensions.waitFor"]]);
  const get = await fetch(`${system.url}?query=${encodeURIComponent(query)}&extensions=${encodeURIComponent(JSON.stringify({ waitFor: "soon" }))}`, {
    headers: { "apollo-require-preflight": "true" },
  });
  const body = (await get.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
  expect(body.errors?.map((e) => [e.extensions?.["code"], e.extensions?.["field"]])).toEqual([["VALIDATION", "extensions.waitFor"]]);

  const ws = wsClient(system.url.replace(/^http/, "ws"));
  try {
    const errors = await new Promise<unknown>((resolve) => {
      ws.subscribe({ query, extensions: { waitFor: "soon" } }, { next: (r) => resolve(r.errors), error: resolve, complete: () => undefined });
    });
    expect((errors as Array<{ extensions?: Record<string, unknown> }>).map((e) => [e.extensions?.["code"], e.extensions?.["field"]])).toEqual([
      ["VALIDATION", "extensions.waitFor"],
    ]);
  } finally {
    await ws.dispose();
  }
});
