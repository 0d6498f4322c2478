import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { withoutSuggestions } from "./limits";
import { checkPersistedQueryHash, PERSISTED_QUERY_HASH_MISMATCH, refusalStatus } from "./httpStatus";
import type { BodyRequest } from "./nodeHttp";

const refused = (code: string, field?: string) => ({ message: "no", extensions: { code }, ...(field ? { path: [field] } : {}) });

describe("refusalStatus", () => {
  it("is 401 or 403 when access control refused every root field", () => {
    expect(refusalStatus({ data: null, errors: [refused("UNAUTHENTICATED", "products")] })).toBe(401);
    expect(refusalStatus({ errors: [refused("FORBIDDEN", "redriveSaga")] })).toBe(403);
    expect(refusalStatus({ data: { a: null, b: null }, errors: [refused("FORBIDDEN", "a"), refused("UNAUTHENTICATED", "b")] })).toBe(401);
  });

  it("is nothing (200) for a partial answer, other errors, or no errors", () => {
    expect(refusalStatus({ data: { a: 1, b: null }, errors: [refused("FORBIDDEN", "b")] })).toBeNull();
    expect(refusalStatus({ data: { a: null, b: null }, errors: [refused("FORBIDDEN", "b")] })).toBeNull();
    expect(refusalStatus({ data: null, errors: [refused("FORBIDDEN", "a"), refused("NOT_FOUND", "b")] })).toBeNull();
    expect(refusalStatus({ data: { a: 1 } })).toBeNull();
  });
});

describe("checkPersistedQueryHash", () => {
  const query = "{ __typename }";
  const sha = createHash("sha256").update(query).digest("hex");
  /** A GET's parameters go in its URL, as a client sends them. */
  function run(req: { method: string; body?: unknown; query?: Record<string, string> }): { next: boolean; status?: number; body?: string } {
    const outcome: { next: boolean; status?: number; body?: string } = { next: false };
    const res = {
      setHeader: () => res,
      set statusCode(s: number) {
        outcome.status = s;
      },
      end: (body: string) => ((outcome.body = body), res),
    } as unknown as ServerResponse;
    const url = `/graphql${req.query ? `?${new URLSearchParams(req.query).toString()}` : ""}`;
    checkPersistedQueryHash({ headers: {}, url, method: req.method, body: req.body } as BodyRequest, res, () => (outcome.next = true));
    return outcome;
  }

  it("passes a matching hash, a hash alone (a lookup) and requests without one", () => {
    expect(run({ method: "POST", body: { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha } } } }).next).toBe(true);
    expect(run({ method: "POST", body: { extensions: { persistedQuery: { version: 1, sha256Hash: sha } } } }).next).toBe(true);
    expect(run({ method: "POST", body: { query } }).next).toBe(true);
    expect(run({ method: "GET", query: { query, extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha } }) } }).next).toBe(true);
  });

  it("refuses a hash that is not the query's with a typed 400, over POST and GET", () => {
    for (const req of [
      { method: "POST", body: { query, extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } } },
      { method: "POST", body: { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha.toUpperCase() } } } },
      { method: "POST", body: { query, extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } } },
      { method: "GET", query: { query, extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: "abc" } }) } },
    ]) {
      const outcome = run(req);
      expect(outcome).toMatchObject({ next: false, status: 400 });
      expect(JSON.parse(outcome.body!).errors[0].extensions.code).toBe(PERSISTED_QUERY_HASH_MISMATCH);
    }
  });

  it("refuses a version other than 1 with a typed 400", () => {
    for (const version of [2, "1", undefined]) {
      const outcome = run({ method: "POST", body: { extensions: { persistedQuery: { version, sha256Hash: sha } } } });
      expect(outcome).toMatchObject({ next: false, status: 400 });
      expect(JSON.parse(outcome.body!).errors[0]).toMatchObject({ extensions: { code: "BAD_REQUEST" }, message: expect.stringContaining("version must be 1") });
    }
  });
});

it("drops graphql-js's suggestions, which would name what introspection hides", () => {
  expect(withoutSuggestions('Cannot query field "rebuildProjectio" on type "Mutation". Did you mean "rebuildProjection"?')).toBe(
    'Cannot query field "rebuildProjectio" on type "Mutation".',
  );
  expect(withoutSuggestions('Variable "$v" got invalid value "PRICE"; Value "PRICE" does not exist in "ProductSort" enum. Did you mean the enum value "PRICE_ASC" or "PRICE_DESC"?')).toBe(
    'Variable "$v" got invalid value "PRICE"; Value "PRICE" does not exist in "ProductSort" enum.',
  );
  expect(withoutSuggestions("Unknown argument. Nothing to suggest.")).toBe("Unknown argument. Nothing to suggest.");
});
