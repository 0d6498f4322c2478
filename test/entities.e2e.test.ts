import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gql as apolloGql, type ApolloClient, type InMemoryCache } from "@apollo/client";
import { buildSchema, isObjectType } from "graphql";
import { apolloClient, inlineObjects } from "./support/apolloClient";
import { JWT_ENV, bearer, token } from "./support/auth";
import { gql } from "./support/graphqlClient";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * Global object identification, seen by a real Apollo Client with a default
 * InMemoryCache: every entity the API returns is stored once, under its
 * global id, and `node`/`nodes` fetch any of them back with the scopes of
 * their own queries.
 */
let system: RunningSystem;
let client: ApolloClient;
let cache: InMemoryCache;
let all = ""; // a token with every scope

/** Every object type of the committed schema that implements Node: what must normalize. */
const NODE_TYPES = (() => {
  const schema = buildSchema(readFileSync(resolve(__dirname, "../schema/schema.graphql"), "utf8"));
  return Object.values(schema.getTypeMap())
    .filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === "Node"))
    .map((t) => t.name)
    .sort();
})();

const ENTITIES = apolloGql`
  query Entities($sku: ID!, $orderId: ID!, $customerId: ID!, $sagaId: ID!, $correlationId: ID!) {
    product(id: $sku) { id sku available auditTrail(first: 5) { edges { node { id eventId type } } } }
    products(first: 10) { edges { node { id sku } } }
    order(id: $orderId) { id orderId status auditTrail(first: 5) { edges { node { id type } } } }
    customerOrders(customerId: $customerId, first: 5) { edges { node { id orderId status } } }
    account(customerId: $customerId) { id customerId availableMinor heldMinor payments { orderId status } }
    saga(id: $sagaId) { id streamId sagaId status }
    sagas(first: 5) { edges { node { id status } } }
    salesDashboard { id capturedRevenueMinor ordersByStatus { confirmed } topProducts(limit: 3) { sku units } }
    correlation(id: $correlationId, first: 20) { edges { node { id type streamId } } }
    projectionStatus { id name checkpoint }
  }
`;
const VARIABLES = { sku: "TEA-001", orderId: "order-1", customerId: "ada", sagaId: "saga.checkout-order-1", correlationId: "checkout-1" };

type Entity = { __typename: string; id: string };

beforeAll(async () => {
  system = await startSystem(["all"], { ...JWT_ENV, GRAPHQL_INTROSPECTION: "true" });
  all = await token("tester", "query admin command:inventory command:ordering command:payments");
  const run = async (query: string) => {
    const result = await gql(system.url, query, {}, bearer(all));
    if (result.errors) throw new Error(JSON.stringify(result.errors));
  };
  await run(`mutation { defineProduct(input: { sku: "TEA-001", name: "Sencha", priceMinor: 1250, currency: "EUR", initialStock: 40 }) { position } }`);
  await run(`mutation { openAccount(customerId: "ada", currency: "EUR", initialBalanceMinor: 5000) { position } }`);
  await eventually(async () => (await gql(system.url, `{ product(id: "TEA-001") { sku } }`, {}, bearer(all))).data?.["product"], "the product");
  await run(`mutation { placeOrder(input: { orderId: "order-1", customerId: "ada", lines: [{ sku: "TEA-001", quantity: 2 }] }, commandId: "checkout-1") { orderId } }`);
  // Each read model follows the log on its own: wait until every one the tests read shows the checkout.
  await eventually(async () => {
    const { data } = await gql(
      system.url,
      `{ saga(id: "saga.checkout-order-1") { status } order(id: "order-1") { status auditTrail { totalCount } } account(customerId: "ada") { heldMinor } }`,
      {},
      bearer(all),
    );
    const done = data as { saga: { status: string } | null; order: { status: string; auditTrail: { totalCount: number } } | null; account: { heldMinor: number } | null } | undefined;
    return done?.saga?.status === "COMPLETED" && done.order?.status === "CONFIRMED" && done.order.auditTrail.totalCount >= 2 && done.account?.heldMinor === 2500;
  }, "the checkout to complete", 60_000);
  ({ client, cache } = apolloClient(system.url, { headers: bearer(all) }));
}, 180_000);

afterAll(async () => {
  client?.stop();
  const codes = await system.shutdown();
  expect(codes).toEqual([0]);
});

it("the schema has a Node interface on every entity type", () => {
  expect(NODE_TYPES).toEqual(["Account", "HistoryEvent", "Order", "Product", "ProjectionStatus", "Saga", "SalesDashboard"]);
});

it("Apollo's InMemoryCache, without typePolicies, stores every entity once under its global id", async () => {
  const { data } = await client.query({ query: ENTITIES, variables: VARIABLES });
  const d = data as Record<string, unknown> & {
    product: Entity & { auditTrail: { edges: Array<{ node: Entity }> } };
    order: Entity;
    account: Entity;
    saga: Entity & { streamId: string; sagaId: string };
    salesDashboard: Entity;
    projectionStatus: Entity[];
  };
  expect(d.product.id).toBe("Product:TEA-001");
  expect(d.order).toMatchObject({ id: "Order:order-1", orderId: "order-1", status: "CONFIRMED" });
  expect(d.account).toMatchObject({ id: "Account:ada", customerId: "ada", heldMinor: 2500 });
  expect(d.saga).toMatchObject({ id: "Saga:saga.checkout-order-1", streamId: "saga.checkout-order-1", sagaId: "order-1" });
  expect(d.salesDashboard.id).toBe("SalesDashboard:sales");
  expect(d.projectionStatus.map((s) => s.id)).toContain("ProjectionStatus:products");

  const entities: Entity[] = [d.product, d.order, d.account, d.saga, d.salesDashboard, ...d.projectionStatus, ...d.product.auditTrail.edges.map((e) => e.node)];
  for (const entity of entities) expect({ entity, key: cache.identify(entity) }).toEqual({ entity, key: `${entity.__typename}:${entity.id}` });

  const contents = cache.extract();
  const normalizedTypes = [...new Set(Object.keys(contents).filter((k) => k !== "ROOT_QUERY").map((k) => k.slice(0, k.indexOf(":"))))].sort();
  expect(normalizedTypes).toEqual(NODE_TYPES); // every kind of entity is a top-level record...
  expect(inlineObjects(contents).filter((o) => NODE_TYPES.includes(o.typename))).toEqual([]); // ...and none is stored inline
  const root = contents["ROOT_QUERY"] as Record<string, unknown>;
  expect(root['account({"customerId":"ada"})']).toEqual({ __ref: "Account:Account:ada" });
  expect(root['salesDashboard']).toEqual({ __ref: "SalesDashboard:SalesDashboard:sales" });
});

it("node(id:) returns the same cache entry as the type's own query", async () => {
  const query = apolloGql`query Node($id: ID!) { node(id: $id) { id ... on Account { availableMinor heldMinor } } }`;
  const { data } = await client.query({ query, variables: { id: "Account:ada" } });
  expect(data).toEqual({ node: { __typename: "Account", id: "Account:ada", availableMinor: 2500, heldMinor: 2500 } });
  const root = cache.extract()["ROOT_QUERY"] as Record<string, unknown>;
  expect(root['node({"id":"Account:ada"})']).toEqual({ __ref: "Account:Account:ada" });
});

it("nodes(ids:) fetches every kind of entity back by its id, in order, null for one that does not exist", async () => {
  const { data } = await client.query({ query: ENTITIES, variables: VARIABLES });
  const d = data as { correlation: { edges: Array<{ node: Entity }> }; projectionStatus: Entity[] } & Record<string, Entity>;
  const ids = [d["product"]!.id, d["order"]!.id, d["account"]!.id, d["saga"]!.id, d["salesDashboard"]!.id, d.projectionStatus[0]!.id, d.correlation.edges[0]!.node.id];
  const result = await gql(system.url, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { ids: [...ids, "Product:NOPE-1"] }, bearer(all));
  expect(result.errors).toBeUndefined();
  const nodes = (result.data as { nodes: Array<Entity | null> }).nodes;
  expect(nodes.map((n) => n?.id ?? null)).toEqual([...ids, null]);
  expect(nodes.slice(0, -1).map((n) => n!.__typename).sort()).toEqual(NODE_TYPES);
});

it("bad ids are VALIDATION errors naming the argument", async () => {
  for (const id of ["TEA-001", "Unknown:1", "Product:", ":TEA-001", `Product:${"X".repeat(300)}`]) {
    const { errors } = await gql(system.url, `query($id: ID!) { node(id: $id) { id } }`, { id }, bearer(all));
    expect({ id, errors: errors?.map((e) => [e.extensions?.["code"], e.extensions?.["field"]]) }).toEqual({ id, errors: [["VALIDATION", "id"]] });
  }
  const many = await gql(system.url, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array.from({ length: 101 }, (_, i) => `Product:P-${i}`) }, bearer(all));
  expect(many.errors?.map((e) => [e.extensions?.["code"], e.extensions?.["field"]])).toEqual([["VALIDATION", "ids"]]);
  const mixed = await gql(system.url, `{ nodes(ids: ["Product:TEA-001", "nope"]) { id } }`, {}, bearer(all));
  expect(mixed.data).toEqual({ nodes: [{ id: "Product:TEA-001" }, null] });
  expect(mixed.errors?.map((e) => [e.path, e.extensions?.["code"], e.extensions?.["field"]])).toEqual([[["nodes", 1], "VALIDATION", "ids[1]"]]);
});

it("node and nodes ask for the scopes of each entity's own query", async () => {
  const code = async (query: string, headers: Record<string, string>) => (await gql(system.url, query, {}, headers)).errors?.map((e) => e.extensions?.["code"]);
  const queryOnly = bearer(await token("reader", "query"));
  const adminOnly = bearer(await token("operator", "admin"));
  expect(await code(`{ node(id: "Product:TEA-001") { id } }`, {})).toEqual(["UNAUTHENTICATED"]);
  expect(await code(`{ node(id: "Product:TEA-001") { id } }`, queryOnly)).toBeUndefined();
  expect(await code(`{ node(id: "Product:TEA-001") { id } }`, adminOnly)).toEqual(["FORBIDDEN"]); // like product(id:)
  expect(await code(`{ node(id: "ProjectionStatus:products") { id } }`, queryOnly)).toEqual(["FORBIDDEN"]); // like projectionStatus
  expect(await code(`{ node(id: "ProjectionStatus:products") { id } }`, adminOnly)).toBeUndefined();

  const mixed = await gql(system.url, `{ nodes(ids: ["Product:TEA-001", "ProjectionStatus:products"]) { id } }`, {}, queryOnly);
  expect(mixed.data).toEqual({ nodes: [{ id: "Product:TEA-001" }, null] });
  expect(mixed.errors?.map((e) => [e.path, e.extensions?.["code"]])).toEqual([[["nodes", 1], "FORBIDDEN"]]);
});
