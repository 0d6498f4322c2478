import { APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, responseMediaType } from "./mediaType";

it.each([
  [undefined, APPLICATION_JSON],
  ["", APPLICATION_JSON],
  ["*/*", APPLICATION_JSON],
  ["application/json", APPLICATION_JSON],
  ["application/graphql-response+json", GRAPHQL_RESPONSE_JSON],
  ["application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON],
  ["application/json, application/graphql-response+json", APPLICATION_JSON],
  ["application/graphql-response+json, application/json", GRAPHQL_RESPONSE_JSON],
  ["application/json;q=0.5, application/graphql-response+json;q=0.8", GRAPHQL_RESPONSE_JSON],
  ["application/graphql-response+json, */*;q=0.1", GRAPHQL_RESPONSE_JSON],
  ["application/*", APPLICATION_JSON],
  ["text/html, */*;q=0.8", APPLICATION_JSON],
  ["application/graphql-response+json;q=0, */*", APPLICATION_JSON],
  ["text/html", null],
])("Accept %j answers %s (as Apollo Server negotiates)", (accept, expected) => {
  expect(responseMediaType(accept)).toBe(expected);
});
