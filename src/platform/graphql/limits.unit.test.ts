import { buildSchema } from "graphql";
import { parseAndValidate, type QueryLimits } from "./limits";

const schema = buildSchema(`
  type Item { id: ID! name: String! child: Item }
  type Page { items: [Item!]! }
  type Query { item(id: ID): Item  page(first: Int): Page }
`);
const limits: QueryLimits = { maxDepth: 4, maxAliases: 2, maxCost: 500, maxTokens: 100, maxDirectives: 2 };
const check = (query: string) => {
  const result = parseAndValidate(schema, query, limits);
  return "errors" in result ? result.errors.map((e) => ({ message: e.message, ...e.extensions })) : "ok";
};

it("accepts what is within every limit", () => {
  expect(check(`{ a: item { id } b: item { child { child { id } } } }`)).toBe("ok");
});

it("refuses each limit with a typed code and a message naming its variable", () => {
  expect(check(`{ item { child { child { child { child { id } } } } } }`)).toEqual([
    { message: "Query depth limit of 4 exceeded, found 6 (MAX_QUERY_DEPTH)", code: "GRAPHQL_VALIDATION_FAILED", limit: "MAX_QUERY_DEPTH", max: 4 },
  ]);
  expect(check(`{ a: item { id } b: item { id } c: item { id } }`)).toEqual([
    { message: "Aliases limit of 2 exceeded, found 3 (MAX_ALIASES)", code: "GRAPHQL_VALIDATION_FAILED", limit: "MAX_ALIASES", max: 2 },
  ]);
  expect(check(`{ page(first: 100) { items { id name } } }`)).toEqual([
    expect.objectContaining({ message: expect.stringMatching(/^Query Cost limit of 500 exceeded, found \d+ \(MAX_QUERY_COST\)$/), limit: "MAX_QUERY_COST" }),
  ]);
  expect(check(`{ item { id @skip(if: false) name @skip(if: false) child @skip(if: false) { id } } }`)).toEqual([
    { message: "Directives limit of 2 exceeded, found 3 (MAX_DIRECTIVES)", code: "GRAPHQL_VALIDATION_FAILED", limit: "MAX_DIRECTIVES", max: 2 },
  ]);
  expect(check(`{ ${"item { id } ".repeat(30)} }`)).toEqual([
    expect.objectContaining({ message: "Syntax Error: the document has more than 100 tokens (MAX_QUERY_TOKENS)", code: "GRAPHQL_PARSE_FAILED" }),
  ]);
});

it("gives syntax and validation errors their codes", () => {
  expect(check(`{ item { id }`)).toEqual([expect.objectContaining({ code: "GRAPHQL_PARSE_FAILED" })]);
  expect(check(`{ nope }`)).toEqual([expect.objectContaining({ code: "GRAPHQL_VALIDATION_FAILED", message: 'Cannot query field "nope" on type "Query".' })]);
});
