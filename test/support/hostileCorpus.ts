import { gzipSync } from "node:zlib";
import { signedToken, TEST_CLAIMS } from "./auth";

/**
 * A corpus of hostile and malformed requests, generated: every one must be
 * refused with a typed GraphQL error (extensions.code) or a 4xx, and none may
 * append anything. The system it runs against holds product TEA-1 (5 in
 * stock) and account "ada"; `validCursor` is a real cursor of the catalog.
 * It checks tokens' issuer and audience (TEST_CLAIMS) and keeps the default
 * WS_MAX_SUBSCRIPTIONS_PER_SOCKET.
 */
export interface HttpCase {
  kind: "http";
  category: string;
  name: string;
  method?: "GET" | "POST";
  /** A GraphQL request object (sent as JSON), a raw string or raw bytes. */
  body?: unknown;
  /** For GET: the query string, without '?'. */
  search?: string;
  headers?: Record<string, string>;
  /** Send without the test's bearer token (the auth cases bring their own header). */
  anonymous?: boolean;
  /** What the refusal must say, where the case is aimed at one limit. */
  expect?: RegExp;
}

export interface WsCase {
  kind: "ws";
  category: string;
  name: string;
  /** connection_init payload; `false` sends no connection_init at all. */
  init?: Record<string, unknown> | false;
  /** Frames sent once the connection is acknowledged (or right away when there is no init). */
  frames: Array<string | Buffer>;
  /** WebSocket subprotocol; "" asks for none. */
  protocol?: string;
  expect?: RegExp;
}

export type HostileCase = HttpCase | WsCase;

const SAFE_MAX = Number.MAX_SAFE_INTEGER;
const SUBSCRIPTIONS_PER_SOCKET = 100;
const BODY_LIMIT = 100 * 1024;

export function hostileCorpus(validCursor: string): HostileCase[] {
  const cases: HostileCase[] = [];
  const http = (category: string, name: string, request: Omit<HttpCase, "kind" | "category" | "name">) =>
    cases.push({ kind: "http", category, name, ...request });
  const op = (category: string, name: string, query: string, variables?: Record<string, unknown>, expect?: RegExp) =>
    http(category, name, { body: variables === undefined ? { query } : { query, variables }, ...(expect ? { expect } : {}) });
  const ws = (category: string, name: string, request: Omit<WsCase, "kind" | "category" | "name">) =>
    cases.push({ kind: "ws", category, name, ...request });

  // --- Malformed JSON and wrong media types --------------------------------------------------
  const malformed = [
    "{", "}", "[", "]", "{\"query\":", "{\"query\": \"{ __typename }\"", "{\"query\": \"{ __typename }\",}",
    "{'query': '{ __typename }'}", "{query: \"{ __typename }\"}", "nul", "NaN", "undefined", "null", "true", "42",
    "\"just a string\"", "{\"query\" \"{ __typename }\"}", "{\"query\": tru}", "{\"query\": \"{ __typename }\"} trailing",
    "\u0000", "{\"query\": \"\\x41\"}", "{\"a\":".repeat(5000), "[".repeat(40_000), "{\"query\": \"{ __typename }\", \"query\": }",
    "", " ", "\n\n", "{}", "[]", "[{\"query\": \"{ __typename }\"}]",
  ];
  malformed.forEach((body, i) => http("malformed JSON", `#${i} ${JSON.stringify(body.slice(0, 30))}`, { body }));
  http("malformed JSON", "invalid UTF-8 bytes", { body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0x22, 0x7d]) });
  http("malformed JSON", "UTF-16 with a UTF-8 charset", { body: Buffer.from("{\"query\":\"{ __typename }\"}", "utf16le") });
  const mediaTypes: Array<[string, Record<string, string>, string | Buffer]> = [
    ["text/plain", { "content-type": "text/plain" }, "{\"query\":\"{ __typename }\"}"],
    ["form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }, "query=%7B__typename%7D"],
    ["multipart", { "content-type": "multipart/form-data; boundary=x" }, "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{ __typename }\r\n--x--"],
    ["application/graphql", { "content-type": "application/graphql" }, "{ __typename }"],
    ["application/xml", { "content-type": "application/xml" }, "<query>{ __typename }</query>"],
    ["no content-type", {}, Buffer.from("{\"query\":\"{ __typename }\"}")],
    ["unsupported charset", { "content-type": "application/json; charset=latin1" }, "{\"query\":\"{ __typename }\"}"],
    ["garbage gzip", { "content-encoding": "gzip" }, "{\"query\":\"{ __typename }\"}"],
    ["unknown content-encoding", { "content-encoding": "bogus" }, "{\"query\":\"{ __typename }\"}"],
    ["gzip bomb", { "content-encoding": "gzip" }, gzipSync(JSON.stringify({ query: "{ __typename }", pad: "a".repeat(5 * BODY_LIMIT) }))],
  ];
  for (const [name, headers, body] of mediaTypes) http("media type", name, { headers, body });

  // --- Request shapes Apollo must refuse ----------------------------------------------------------
  const shapes: Array<[string, unknown]> = [
    ["query is a number", { query: 5 }], ["query is null", { query: null }], ["query is a list", { query: ["{ __typename }"] }],
    ["query is an object", { query: { a: 1 } }], ["query is empty", { query: "" }], ["query is blank", { query: "   \n " }],
    ["variables is a string", { query: "{ __typename }", variables: "x" }], ["variables is a list", { query: "{ __typename }", variables: [1] }],
    ["variables is a number", { query: "{ __typename }", variables: 5 }], ["operationName is a number", { query: "{ __typename }", operationName: 5 }],
    ["operationName names nothing", { query: "query A { __typename }", operationName: "B" }],
    ["two operations, no operationName", { query: "query A { __typename } query B { __typename }" }],
    ["extensions is a string", { query: "{ __typename }", extensions: "x" }],
    ["unknown persisted query", { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }],
    ["persisted query with the wrong hash", { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }],
    ["persisted query with a hash that is a number", { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } }],
    ["persisted query of version 2", { extensions: { persistedQuery: { version: 2, sha256Hash: "0".repeat(64) } } }],
    ["persisted query without a version", { query: "{ __typename }", extensions: { persistedQuery: { sha256Hash: "0".repeat(64) } } }],
    ["subscription over HTTP", { query: "subscription { stockLevels { sku } }" }],
    ["no query at all", { variables: {} }],
    ["batch of two", [{ query: "{ __typename }" }, { query: "{ __typename }" }]],
  ];
  for (const [name, body] of shapes) http("request shape", name, { body });
  const gets: Array<[string, string]> = [
    ["mutation over GET", `query=${encodeURIComponent('mutation { restockProduct(sku: "TEA-1", quantity: 1) { position } }')}`],
    ["GET without a query", ""],
    ["GET with a syntax error", `query=${encodeURIComponent("{ product(id: ")}`],
    ["GET with variables that are not JSON", `query=${encodeURIComponent("{ __typename }")}&variables=%7Bnope`],
    ["GET with a 20 kB URL", `query=${"a".repeat(20_000)}`],
  ];
  for (const [name, search] of gets) http("request shape", name, { method: "GET", search, headers: { "apollo-require-preflight": "1" } });
  // GET needs no CSRF header (docs/decisions/0010); a GET with the wrong persisted hash is refused like a POST.
  const wrongHash = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: "f".repeat(64) } }));
  http("request shape", "GET persisted query with the wrong hash", { method: "GET", search: `query=${encodeURIComponent("{ __typename }")}&extensions=${wrongHash}`, expect: /sha256Hash/ });
  http("request shape", "GET mutation without any custom header", { method: "GET", search: `query=${encodeURIComponent('mutation { restockProduct(sku: "TEA-1", quantity: 1) { position } }')}` });

  // --- Syntax ----------------------------------------------------------------------------------------
  const syntax = [
    "{", "}", "{ product(id: ) { sku } }", "{ product(id: \"x\" { sku } }", "query { ... }", "mutation", "{ 1 }", "{ product(id: \"\\u{zz}\") { sku } }",
    "{ \"unterminated }", "query ($: Int) { __typename }", "fragment on on on { a }", "{ products(first: 1e) { totalCount } }",
  ];
  syntax.forEach((query, i) => op("syntax", `#${i} ${query.slice(0, 30)}`, query));

  // --- Wrong types, in literals and in variables -------------------------------------------------------
  const literalTypes = [
    `mutation { restockProduct(sku: "TEA-1", quantity: "3") { position } }`,
    `mutation { restockProduct(sku: "TEA-1", quantity: 3.5) { position } }`,
    `mutation { restockProduct(sku: "TEA-1", quantity: true) { position } }`,
    `mutation { restockProduct(sku: 123, quantity: 1) { position } }`,
    `mutation { restockProduct(sku: "TEA-1") { position } }`,
    `mutation { restockProduct(sku: "TEA-1", quantity: 1, evil: 1) { position } }`,
    `mutation { defineProduct(input: { sku: "NEW-1", name: "x", priceMinor: "free", currency: "EUR" }) { position } }`,
    `mutation { defineProduct(input: { sku: "NEW-1", name: "x", priceMinor: 1, currency: EUR }) { position } }`,
    `mutation { defineProduct(input: "NEW-1") { position } }`,
    `mutation { placeOrder(input: { customerId: "ada", lines: "TEA-1" }) { orderId } }`,
    `mutation { placeOrder(input: { customerId: "ada", lines: [null] }) { orderId } }`,
    `mutation { placeOrder(input: { customerId: ["ada"], lines: [{ sku: "TEA-1", quantity: 1 }] }) { orderId } }`,
    `{ products(sort: PRICE) { totalCount } }`,
    `{ products(sort: "NAME") { totalCount } }`,
    `{ products(descending: "yes") { totalCount } }`,
    `{ product(id: { sku: "TEA-1" }) { sku } }`,
    `{ product(id: "TEA-1") { sku { deep } } }`,
    `{ product(id: "TEA-1") }`,
    `{ nope }`,
    `mutation { nope }`,
  ];
  // With introspection off (production), no error may suggest a name: "Did you mean …?" would list the schema.
  const noSuggestion = /^(?![\s\S]*Did you mean)/;
  op("wrong types", "a mistyped query field", `{ prodcts(first: 1) { totalCount } }`, undefined, noSuggestion);
  op("wrong types", "a mistyped admin mutation", `mutation { rebuildProjectio(name: "products") { name } }`, undefined, noSuggestion);
  op("wrong types", "a mistyped enum value in a variable", `query($v: ProductSort!) { products(sort: $v) { totalCount } }`, { v: "PRICE" }, noSuggestion);
  op("wrong types", "a mistyped argument", `{ products(frist: 1) { totalCount } }`, undefined, noSuggestion);
  literalTypes.forEach((query, i) => op("wrong types", `literal #${i} ${query.slice(0, 50)}`, query));

  const variableCases: Array<[string, string, unknown[]]> = [
    ["restock quantity", `mutation($v: Int!) { restockProduct(sku: "TEA-1", quantity: $v) { position } }`, ["3", 3.5, true, null, [], {}, 2 ** 31, -(2 ** 31) - 1, 1e100, -1, 0, 1_000_001]],
    ["price", `mutation($v: SafeInt!) { changeProductPrice(sku: "TEA-1", priceMinor: $v) { position } }`, [-1, 10_000_000_001, SAFE_MAX + 1, 1e300, "100", 1.25, -SAFE_MAX, null, true]],
    ["funds", `mutation($v: SafeInt!) { addFunds(customerId: "ada", amountMinor: $v) { position } }`, [0, -1, -100, 10_000_000_001, SAFE_MAX + 1, "5", 0.5, null, []]],
    ["opening balance", `mutation($v: SafeInt!) { openAccount(customerId: "new-acct", currency: "EUR", initialBalanceMinor: $v) { position } }`, [-1, 10_000_000_001, SAFE_MAX + 1, "5", 1.5, false]],
    ["currency", `mutation($v: String!) { openAccount(customerId: "new-acct", currency: $v) { position } }`, ["eur", "EURO", "E", "", 1, null, "€€€", "EUR\u0000"]],
    ["sort", `query($v: ProductSort!) { products(sort: $v) { totalCount } }`, ["PRICE", 1, null, "sku"]],
    ["id of a product", `query($v: ID!) { product(id: $v) { sku } }`, [null, {}, [], true, 1.5]],
    ["cancel reason", `mutation($v: String!) { cancelOrder(orderId: "o-none", reason: $v) { position } }`, ["", "   ", 5, null, "why\u0000", "\uDC00 lone"]],
    // "client/…" would be another caller's scoped idempotency key: '/' is never allowed in a client's commandId.
    ["commandId", `mutation($v: String) { restockProduct(sku: "TEA-1", quantity: 1, commandId: $v) { position } }`, ["", "bad id!", "x".repeat(101), "../../etc/passwd", "a\nb", "client/boss/x", "saga.checkout-o-1/reserve:TEA-1"]],
    ["asOf", `query($v: AsOfInput!) { product(id: "TEA-1", asOf: $v) { sku } }`, [
      {}, { at: null, version: null }, { at: "2030-01-01T00:00:00Z", version: 1 }, { version: 0 }, { version: -1 }, { version: 1_000_000 },
      { version: 2 ** 31 }, { version: "1" }, { at: "yesterday" }, { at: 5 }, { at: "2030-13-45T00:00:00Z" }, "2030-01-01", null, [],
    ]],
  ];
  for (const [what, query, values] of variableCases) {
    for (const v of values) op("wrong types", `${what} = ${JSON.stringify(v)?.slice(0, 40)}`, query, { v });
  }
  const define = (input: Record<string, unknown>) => ({ input: { sku: "NEW-1", name: "new", priceMinor: 100, currency: "EUR", initialStock: 1, ...input } });
  const defineQuery = `mutation($input: DefineProductInput!) { defineProduct(input: $input) { position } }`;
  const badProducts: Array<Record<string, unknown>> = [
    { priceMinor: -1 }, { priceMinor: 10_000_000_001 }, { priceMinor: SAFE_MAX + 2 }, { initialStock: -1 }, { initialStock: 1_000_000_001 },
    { initialStock: 2 ** 31 }, { currency: "eur" }, { currency: "EURO" }, { currency: 1 }, { sku: "bad sku" }, { sku: "-AB" }, { sku: "A" },
    { sku: "lower" }, { sku: "X".repeat(33) }, { name: "" }, { name: "   " }, { name: "x".repeat(121) }, { sku: null }, { evil: 1 },
    { sku: "TEA-1" } /* exists */,
  ];
  for (const input of badProducts) op("wrong types", `defineProduct ${JSON.stringify(input).slice(0, 40)}`, defineQuery, define(input));
  // Refused at the edge with VALIDATION naming the field: before, they reached PostgreSQL, failed five
  // retries and came back UNAVAILABLE with the database's text (a client retrying on UNAVAILABLE loops for ever).
  const unstorable: Array<[string, Record<string, unknown>, RegExp]> = [
    ["a NUL in the name", { name: "Tea\u0000" }, /Invalid name.*NUL/],
    ["an unpaired surrogate in the name", { name: "Tea \uD800" }, /Invalid name.*surrogate/],
    ["a lone low surrogate in the name", { name: "\uDC00" }, /Invalid name.*surrogate/],
    ["price 0 (could never be ordered)", { priceMinor: 0 }, /Invalid priceMinor/],
  ];
  for (const [name, input, expect] of unstorable) op("wrong types", `defineProduct ${name}`, defineQuery, define(input), expect);
  op("wrong types", "changeProductPrice to 0", `mutation { changeProductPrice(sku: "TEA-1", priceMinor: 0) { position } }`, undefined, /Invalid priceMinor/);
  op("wrong types", "defineProduct input is a list", defineQuery, { input: [define({}).input] });
  op("wrong types", "defineProduct input is null", defineQuery, { input: null });
  op("wrong types", "undeclared variable", `mutation { restockProduct(sku: "TEA-1", quantity: $q) { position } }`, { q: 1 });
  op("wrong types", "variable of the wrong declared type", `mutation($q: String!) { restockProduct(sku: "TEA-1", quantity: $q) { position } }`, { q: "1" });

  // --- Orders: lines, quantities, ids ---------------------------------------------------------------------
  const orderQuery = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }`;
  const line = (quantity: unknown, sku = "TEA-1") => ({ sku, quantity });
  const badOrders: Array<[string, Record<string, unknown>]> = [
    ["no lines", { customerId: "ada", lines: [] }],
    ["51 lines", { customerId: "ada", lines: Array.from({ length: 51 }, (_, i) => line(1, `SKU-${i}`)) }],
    ["3000 lines", { customerId: "ada", lines: Array.from({ length: 3000 }, () => line(1)) }],
    ["quantity 0", { customerId: "ada", lines: [line(0)] }],
    ["quantity -1", { customerId: "ada", lines: [line(-1)] }],
    ["quantity 1001", { customerId: "ada", lines: [line(1001)] }],
    ["quantity 2^31", { customerId: "ada", lines: [line(2 ** 31)] }],
    ["quantity 1e300", { customerId: "ada", lines: [line(1e300)] }],
    ["quantity as text", { customerId: "ada", lines: [line("1")] }],
    ["unknown SKU", { customerId: "ada", lines: [line(1, "NOPE-1")] }],
    ["malformed SKU", { customerId: "ada", lines: [line(1, "not a sku")] }],
    ["the same SKU twice", { customerId: "ada", lines: [line(1), line(1)] }],
    ["malformed customer id", { customerId: "bad id!", lines: [line(1)] }],
    ["malformed order id", { orderId: "bad id!", customerId: "ada", lines: [line(1)] }],
    ["order id of 65 characters", { orderId: "o".repeat(65), customerId: "ada", lines: [line(1)] }],
    ["no customer", { lines: [line(1)] }],
    ["lines is null", { customerId: "ada", lines: null }],
  ];
  for (const [name, input] of badOrders) op("orders", name, orderQuery, { input });

  // --- Huge strings and arrays (under the body limit) ------------------------------------------------------
  const huge = "x".repeat(90_000);
  const hugeStrings: Array<[string, string, Record<string, unknown>]> = [
    ["product id", `query($v: ID!) { product(id: $v) { sku } }`, { v: huge }],
    ["order id", `query($v: ID!) { order(id: $v) { id } }`, { v: huge }],
    ["account id", `query($v: ID!) { account(customerId: $v) { availableMinor } }`, { v: huge }],
    ["saga id", `query($v: ID!) { saga(id: $v) { id } }`, { v: huge }],
    ["sku", `mutation($v: String!) { restockProduct(sku: $v, quantity: 1) { position } }`, { v: huge }],
    ["order id to cancel", `mutation($v: ID!) { cancelOrder(orderId: $v, reason: "x") { position } }`, { v: huge }],
    ["product name", defineQuery, define({ name: huge })],
    ["cancel reason", `mutation($v: String!) { cancelOrder(orderId: "o-none", reason: $v) { position } }`, { v: huge }],
    ["customer id", `mutation($v: ID!) { openAccount(customerId: $v, currency: "EUR") { position } }`, { v: huge }],
    ["commandId", `mutation($v: String) { restockProduct(sku: "TEA-1", quantity: 1, commandId: $v) { position } }`, { v: huge }],
    ["waitFor", `query($v: String) { product(id: "TEA-1", waitFor: $v) { sku } }`, { v: huge }],
    ["cursor", `query($v: String) { products(first: 1, after: $v) { totalCount } }`, { v: huge }],
    ["saga to redrive", `mutation($v: ID!) { redriveSaga(id: $v) { position } }`, { v: huge }],
    ["string of NUL characters", `mutation($v: String!) { restockProduct(sku: $v, quantity: 1) { position } }`, { v: "\u0000".repeat(10_000) }],
    ["list of 20,000 numbers as an Int", `mutation($v: Int!) { restockProduct(sku: "TEA-1", quantity: $v) { position } }`, { v: Array.from({ length: 20_000 }, () => 1) }],
    ["20,000 unused variables", `{ __typename nope }`, Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`v${i}`, i]))],
  ];
  for (const [name, query, variables] of hugeStrings) op("huge input", name, query, variables);
  op("huge input", "a query string of 90 kB", `{ product(id: "${huge}") { sku } }`);

  // --- Unknown ids (mutations: queries answer null for an unknown id) ------------------------------------------
  // The first three are the saga's commands: no longer mutations at all (GRAPHQL_VALIDATION_FAILED), so no
  // client can reserve for an order that does not exist or release a confirmed order's stock.
  const unknownIds = [
    `mutation { reserveStock(sku: "NOPE-1", orderId: "o-1", quantity: 1) { position } }`,
    `mutation { releaseStock(sku: "TEA-1", orderId: "o-none") { position } }`,
    `mutation { commitStock(sku: "TEA-1", orderId: "o-none") { position } }`,
    `mutation { restockProduct(sku: "NOPE-1", quantity: 1) { position } }`,
    `mutation { changeProductPrice(sku: "NOPE-1", priceMinor: 5) { position } }`,
    `mutation { releaseStock(sku: "NOPE-1", orderId: "o-1") { position } }`,
    `mutation { cancelOrder(orderId: "o-none", reason: "because") { position } }`,
    `mutation { markOrderShipped(orderId: "o-none") { position } }`,
    `mutation { addFunds(customerId: "nobody", amountMinor: 5) { position } }`,
    `mutation { redriveSaga(id: "saga.checkout-o-none") { position } }`,
    `mutation { redriveSaga(id: "not-a-saga") { position } }`,
    `mutation { openAccount(customerId: "ada", currency: "EUR") { position } }` /* already open */,
    `query { order(id: "o-none", asOf: { version: 1 }) { id } }` /* no past for what never was */,
    `query { product(id: "NOPE-1", asOf: { at: "2030-01-01T00:00:00Z" }) { sku } }`,
  ];
  unknownIds.forEach((query, i) => op("unknown ids", `#${i} ${query.slice(11, 60)}`, query));

  // --- Pagination beyond limits and invalid cursors -----------------------------------------------------------
  for (const first of [0, -1, 101, 1000, 2 ** 31 - 1]) op("pagination", `products first ${first}`, `{ products(first: ${first}) { totalCount } }`);
  for (const first of [2 ** 31, "10", 1.5, null]) op("pagination", `products first ${JSON.stringify(first)} (variable)`, `query($f: Int!) { products(first: $f) { totalCount } }`, { f: first });
  for (const first of [0, -5, 101, 100_000]) op("pagination", `customerOrders first ${first}`, `{ customerOrders(customerId: "ada", first: ${first}) { totalCount } }`);
  for (const first of [0, -1, 101]) op("pagination", `sagas first ${first}`, `{ sagas(first: ${first}) { edges { cursor } } }`);
  for (const first of [0, -1, 101]) op("pagination", `correlation first ${first}`, `{ correlation(id: "c-1", first: ${first}) { totalCount } }`);
  op("pagination", "auditTrail first 101", `{ product(id: "TEA-1") { auditTrail(first: 101) { totalCount } } }`);
  for (const limit of [0, -1, 101, 1_000_000]) op("pagination", `topProducts limit ${limit}`, `{ salesDashboard { topProducts(limit: ${limit}) { sku } } }`);
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
  const badCursors = [
    "garbage", "AAAA", b64("no separator here"), `${validCursor}=`, `${validCursor}==`, "x".repeat(600), "%%%", "\u0000", " ", "....",
    validCursor.slice(0, -2), `${validCursor}AA`, b64("a\u0000"),
  ];
  badCursors.forEach((after, i) => op("cursors", `products after #${i} ${JSON.stringify(after.slice(0, 20))}`, `query($a: String) { products(first: 5, after: $a) { totalCount } }`, { a: after }));
  for (const after of ["garbage", "x".repeat(600)]) {
    op("cursors", `customerOrders after ${after.slice(0, 10)}`, `query($a: String) { customerOrders(customerId: "ada", first: 5, after: $a) { totalCount } }`, { a: after });
    op("cursors", `correlation after ${after.slice(0, 10)}`, `query($a: String) { correlation(id: "c-1", first: 5, after: $a) { totalCount } }`, { a: after });
    op("cursors", `auditTrail after ${after.slice(0, 10)}`, `query($a: String) { product(id: "TEA-1") { auditTrail(after: $a) { totalCount } } }`, { a: after });
    op("cursors", `sagas after ${after.slice(0, 10)}`, `query($a: String) { sagas(first: 5, after: $a) { edges { cursor } } }`, { a: after });
  }
  op("cursors", "cursor is a number", `{ products(first: 5, after: 123) { totalCount } }`);
  for (const waitFor of ["abc", "1.2.3", "-1.-5", "1e5.1", "99999999999.1", "1.", ".1"]) {
    op("cursors", `waitFor ${waitFor}`, `query($w: String) { product(id: "TEA-1", waitFor: $w) { sku } }`, { w: waitFor });
  }

  // --- Deep, wide and expensive queries ----------------------------------------------------------------------------
  for (let levels = 6; levels <= 24; levels += 2) {
    const ofTypes = "ofType { ".repeat(levels);
    op("deep", `__type nested ${levels} levels`, `{ __type(name: "Query") { fields { type { ${ofTypes} name ${"} ".repeat(levels)} } } } }`, undefined, /MAX_QUERY_DEPTH/);
  }
  for (let levels = 10; levels <= 50; levels += 20) {
    op("deep", `inline fragments nested ${levels}`, `{ ${"... on Query { ".repeat(levels)} __typename ${"} ".repeat(levels)} }`, undefined, /MAX_QUERY_DEPTH/);
  }
  op("deep", "introspection (off in production)", `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`, undefined, /introspection/i);
  const fullProducts = `products(first: 100) { edges { cursor node { sku name priceMinor currency available reserved inStock version } } pageInfo { hasNextPage endCursor } totalCount }`;
  const fullSagas = `sagas(first: 100) { edges { cursor node { id sagaId saga status currentStep deadlineAt deadlinePassed lastError { step code message } steps { step status at code message } history { type step at } startedAt updatedAt version } } pageInfo { hasNextPage endCursor } }`;
  const fullOrders = `customerOrders(customerId: "ada", first: 100) { edges { cursor node { id status customerId totalMinor currency lines { sku quantity unitPriceMinor } history { status eventType at } } } totalCount }`;
  op("wide", "three full pages at once", `{ ${fullProducts} ${fullSagas} ${fullOrders} }`, undefined, /MAX_QUERY_COST/);
  op("wide", "one field a thousand times in a page", `{ products(first: 100) { edges { node { ${"sku ".repeat(1000)} } } } }`, undefined, /MAX_QUERY_COST/);
  op("wide", "2500 fields (token limit)", `{ ${"__typename ".repeat(2500)} }`, undefined, /MAX_QUERY_TOKENS/);
  op("wide", "1500 identical fields", `{ salesDashboard { ${"capturedRevenueMinor ".repeat(1500)} } }`, undefined, /too much work to validate/);
  for (const n of [16, 30, 100, 400]) {
    op("aliases", `${n} aliased pages`, `{ ${Array.from({ length: n }, (_, i) => `a${i}: products(first: 1) { totalCount }`).join(" ")} }`, undefined, /MAX_ALIASES|MAX_QUERY_TOKENS/);
  }
  for (const n of [16, 40]) {
    op("aliases", `${n} aliased mutations`, `mutation { ${Array.from({ length: n }, (_, i) => `m${i}: restockProduct(sku: "NOPE-${i}", quantity: 1) { position }`).join(" ")} }`, undefined, /MAX_ALIASES/);
  }
  op("aliases", "700 aliased __typename (token limit)", `{ ${Array.from({ length: 700 }, (_, i) => `t${i}: __typename`).join(" ")} }`, undefined, /MAX_QUERY_TOKENS/);
  op("aliases", "aliases hidden in a fragment", `{ ...F } fragment F on Query { ${Array.from({ length: 20 }, (_, i) => `p${i}: product(id: "TEA-1") { sku }`).join(" ")} }`, undefined, /MAX_ALIASES/);
  op("directives", "25 directives", `{ ${Array.from({ length: 25 }, (_, i) => `t${i}: __typename @skip(if: false)`).join(" ")} }`, undefined, /MAX_DIRECTIVES/);
  op("directives", "a repeated directive", `{ __typename @include(if: true) @include(if: true) }`);
  op("directives", "an unknown directive", `{ __typename @evil }`);
  op("directives", "@skip without its argument", `{ __typename @skip }`);

  // --- Fragment bombs ----------------------------------------------------------------------------------------------
  const doubling = (depth: number) =>
    `{ ...F${depth} } fragment F0 on Query { products(first: 100) { edges { node { sku name } } } } ` +
    Array.from({ length: depth }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`).join(" ");
  for (const depth of [6, 10, 20, 40]) op("fragments", `doubling fragments ×2^${depth}`, doubling(depth), undefined, /MAX_QUERY_DEPTH|MAX_QUERY_COST/);
  op("fragments", "a fragment cycle", `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`);
  op("fragments", "a fragment spreading itself", `{ ...A } fragment A on Query { __typename ...A }`);
  op("fragments", "an unknown fragment", `{ ...Nope }`);
  op("fragments", "an unused fragment", `{ __typename } fragment A on Query { __typename }`);
  op("fragments", "two fragments of one name", `{ ...A } fragment A on Query { __typename } fragment A on Query { __typename }`);
  op("fragments", "a fragment on an unknown type", `{ ...A } fragment A on Nope { __typename }`);
  op("fragments", "a fragment on the wrong type", `{ ...A } fragment A on Product { sku }`);
  op("fragments", "400 fragments (token limit)", `{ ${Array.from({ length: 400 }, (_, i) => `...F${i}`).join(" ")} } ${Array.from({ length: 400 }, (_, i) => `fragment F${i} on Query { __typename }`).join(" ")}`, undefined, /MAX_QUERY_TOKENS/);
  op("fragments", "a chain of 60 fragments into a page", `{ ...F0 } ${Array.from({ length: 60 }, (_, i) => `fragment F${i} on Query { ${i === 59 ? fullProducts : `...F${i + 1}`} }`).join(" ")} `, undefined, /MAX_QUERY_DEPTH|MAX_QUERY_COST/);
  op("fragments", "fragments with conflicting fields", `{ ...A ...B } fragment A on Query { x: product(id: "A") { sku } } fragment B on Query { x: product(id: "B") { sku } }`);

  // --- Oversized bodies ------------------------------------------------------------------------------------------------
  for (const size of [BODY_LIMIT + 1, 2 * BODY_LIMIT, 1024 * 1024, 8 * 1024 * 1024]) {
    http("oversized", `${size} bytes of JSON`, { body: JSON.stringify({ query: "{ __typename }", variables: { pad: "a".repeat(size) } }), expect: /MAX_BODY_BYTES/ });
  }
  http("oversized", "oversized and malformed", { body: `{"query": "${"a".repeat(2 * BODY_LIMIT)}`, expect: /MAX_BODY_BYTES/ });
  http("oversized", "oversized list of lines", { body: { query: orderQuery, variables: { input: { customerId: "ada", lines: Array.from({ length: 10_000 }, () => line(1)) } } }, expect: /MAX_BODY_BYTES/ });

  // --- Tokens that are not what they claim (the test runs with AUTH_MODE=jwt) ----------------------------------------------
  const b64json = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const authHeaders: Array<[string, string]> = [
    ["Bearer alone", "Bearer"], ["Bearer and spaces", "Bearer   "], ["three dots", "Bearer a.b.c"], ["Basic", "Basic dXNlcjpwYXNz"],
    ["8 kB of token", `Bearer ${"A".repeat(8000)}`], ["alg none", `Bearer ${b64json({ alg: "none" })}.${b64json({ sub: "x", scope: "query" })}.`],
    ["forged signature", `Bearer ${b64json({ alg: "HS256" })}.${b64json({ sub: "x", scope: "query admin" })}.${"A".repeat(43)}`],
    ["JSON in the header", "{\"sub\":\"x\"}"], ["two tokens", "Bearer a.b.c, Bearer d.e.f"], ["a token and junk", `Bearer ${b64json({ alg: "HS256" })}.e30.e30 junk`],
  ];
  for (const [name, authorization] of authHeaders) {
    http("auth", name, { anonymous: true, headers: { authorization }, body: { query: `{ products(first: 1) { totalCount } }` } });
  }
  http("auth", "no token for a mutation", { anonymous: true, body: { query: `mutation { restockProduct(sku: "TEA-1", quantity: 1) { position } }` } });
  // Well signed, but not for this server, no longer valid, or claiming to be the system itself.
  const now = Math.floor(Date.now() / 1000);
  const claims = { scope: "command:inventory query admin", iss: TEST_CLAIMS.issuer, aud: TEST_CLAIMS.audience, iat: now, exp: now + 3600 };
  const signed: Array<[string, Record<string, unknown>]> = [
    ["expired", { sub: "mallory", ...claims, exp: now - 1 }],
    ["another issuer", { sub: "mallory", ...claims, iss: "https://evil.example" }],
    ["no issuer", { sub: "mallory", ...claims, iss: undefined }],
    ["another audience", { sub: "mallory", ...claims, aud: "billing" }],
    ["an audience list without ours", { sub: "mallory", ...claims, aud: ["billing", "eventline"] }],
    ["no audience", { sub: "mallory", ...claims, aud: undefined }],
    ...["saga:checkout", "saga-runner", "reactor:inventory:orderStock", "dev", "DEV", "anonymous", "Saga:Checkout"].map(
      (sub): [string, Record<string, unknown>] => [`subject ${sub} (reserved)`, { sub, ...claims }],
    ),
  ];
  for (const [name, payload] of signed) {
    const authorization = `Bearer ${signedToken(payload)}`;
    http("auth", `a token: ${name}`, { anonymous: true, headers: { authorization }, body: { query: `mutation { restockProduct(sku: "TEA-1", quantity: 1) { position } }` } });
    ws("websocket", `connection_init with a token: ${name}`, { init: { authorization }, frames: [] });
  }

  // --- Malformed WebSocket messages --------------------------------------------------------------------------------------------
  const subscribe = (query: unknown, variables?: unknown, id: unknown = "1") => JSON.stringify({ id, type: "subscribe", payload: { query, ...(variables ? { variables } : {}) } });
  const wsFrames: Array<[string, Array<string | Buffer>]> = [
    ["text that is not JSON", ["hello"]], ["a JSON list", ["[]"]], ["JSON null", ["null"]], ["a number", ["42"]],
    ["an unknown message type", [JSON.stringify({ type: "bogus" })]], ["no type", [JSON.stringify({ id: "1" })]],
    ["subscribe without an id", [JSON.stringify({ type: "subscribe", payload: { query: "{ __typename }" } })]],
    ["subscribe without a payload", [JSON.stringify({ id: "1", type: "subscribe" })]],
    ["subscribe with a numeric query", [subscribe(5)]], ["subscribe with a numeric id", [subscribe("{ __typename }", undefined, 7)]],
    ["a second connection_init", [JSON.stringify({ type: "connection_init" })]],
    ["binary garbage", [Buffer.from([0, 1, 2, 0xff, 0xfe])]],
    ["the same id twice", [subscribe("subscription { stockLevels { sku } }"), subscribe("subscription { stockLevels { sku } }")]],
    ["a message larger than the body limit", [subscribe(`{ product(id: "${"x".repeat(BODY_LIMIT + 10)}") { sku } }`)]],
    ["a syntax error", [subscribe("subscription { stockLevels { sku }")]],
    ["an unknown field", [subscribe("subscription { nope }")]],
    ["too deep", [subscribe(`{ __type(name: "Query") { fields { type { ${"ofType { ".repeat(12)} name ${"} ".repeat(12)} } } } }`)]],
    ["too many aliases", [subscribe(`{ ${Array.from({ length: 20 }, (_, i) => `p${i}: product(id: "TEA-1") { sku }`).join(" ")} }`)]],
    ["too many tokens", [subscribe(`subscription { stockLevels { ${"sku ".repeat(2500)} } }`)]],
    ["a fragment bomb", [subscribe(doubling(20).replace(/^\{/, "query {"))]],
    ["variables of the wrong type", [subscribe("subscription($id: ID!) { productChanged(id: $id) { eventType } }", { id: { not: "an id" } })]],
    ["a mutation with a bad quantity", [subscribe(`mutation { restockProduct(sku: "TEA-1", quantity: -4) { position } }`)]],
    ["a page too large", [subscribe(`{ products(first: 1000) { totalCount } }`)]],
    ["introspection (off in production)", [subscribe(`{ __schema { types { name } } }`)]],
    ["a mistyped field", [subscribe("subscription { stockLevel { sku } }")]],
  ];
  const wsExpect: Record<string, RegExp> = {
    "too deep": /MAX_QUERY_DEPTH/,
    "too many aliases": /MAX_ALIASES/,
    "too many tokens": /MAX_QUERY_TOKENS/,
    "a fragment bomb": /MAX_QUERY_DEPTH|MAX_QUERY_COST/,
    "introspection (off in production)": /introspection/i,
    "a page too large": /expected an integer from 1 to 100/,
    "a mistyped field": /^(?![\s\S]*Did you mean)[\s\S]*Cannot query field/,
  };
  for (const [name, frames] of wsFrames) ws("websocket", name, { frames, ...(wsExpect[name] ? { expect: wsExpect[name] } : {}) });
  ws("websocket", "subscribe before connection_init", { init: false, frames: [subscribe("subscription { stockLevels { sku } }")] });
  ws("websocket", "connection_init without a token", { init: {}, frames: [] });
  ws("websocket", "connection_init with a forged token", { init: { authorization: "Bearer a.b.c" }, frames: [] });
  ws("websocket", "connection_init payload that is a string", { init: false, frames: [JSON.stringify({ type: "connection_init", payload: "x" })] });
  ws("websocket", "no subprotocol", { protocol: "", frames: [] });
  ws("websocket", `${SUBSCRIPTIONS_PER_SOCKET + 1} subscriptions on one socket`, {
    frames: Array.from({ length: SUBSCRIPTIONS_PER_SOCKET + 1 }, (_, i) => subscribe("subscription { stockLevels { sku } }", undefined, `s${i}`)),
    expect: /WS_MAX_SUBSCRIPTIONS_PER_SOCKET/,
  });
  return cases;
}
