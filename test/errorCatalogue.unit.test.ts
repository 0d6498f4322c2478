import "reflect-metadata";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { allErrorCodes, ERROR_DOCS_PATH, errorCatalogues, renderErrorDocs } from "../src/platform/runtime/errorDocs";
import { platformErrors } from "../src/platform/core/errorCatalogue";
import { ConcurrencyError, DomainError, ErrorCode, isTransient, NotFoundError, UnavailableError, ValidationError } from "../src/platform/core/errors";
import { requireScope } from "../src/platform/graphql/auth";
import { PUBLIC_CODES } from "../src/platform/graphql/errors";
import { LIMIT_ERROR_CODE, PARSE_ERROR_CODE } from "../src/platform/graphql/limits";
import { services } from "../src/registry";
import { inventoryErrors } from "../src/services/inventory/errors";
import { orderingErrors } from "../src/services/ordering/errors";
import { paymentsErrors } from "../src/services/payments/errors";

const root = resolve(__dirname, "..");
const catalogued = allErrorCodes(errorCatalogues(services));

it(`${ERROR_DOCS_PATH} matches the error catalogues (run \`npm run schema:emit\`)`, () => {
  expect(readFileSync(resolve(root, ERROR_DOCS_PATH), "utf8")).toBe(renderErrorDocs(errorCatalogues(services)));
});

it("the code constants are the catalogue's codes", () => {
  expect(Object.keys(ErrorCode)).toEqual(Object.keys(platformErrors));
  for (const [code, value] of Object.entries(ErrorCode)) expect(value).toBe(code);
});

/**
 * Every place the code writes an `extensions.code`: DomainError constructors and subclasses,
 * code constants, GraphQL errors built with a literal code, and the HTTP layer's refusals.
 */
const CODE_PATTERNS = [
  /\b\w*ErrorCode\.([A-Z][A-Z0-9_]+)/g,
  /new DomainError\(\s*"([A-Z][A-Z0-9_]+)"/g,
  /super\(\s*"([A-Z][A-Z0-9_]+)"/g,
  /\bcode: "([A-Z][A-Z0-9_]+)"/g,
  /\bsend\(res, \d+, "([A-Z][A-Z0-9_]+)"/g,
  /\bsendHttpError\(\s*req,\s*res,\s*\d+,\s*(?:ErrorCode\.)?"?([A-Z][A-Z0-9_]+)"?/g,
];

function sources(dir: string): string[] {
  return readdirSync(resolve(root, dir), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .map((file) => join(dir, file));
}

it("every code the sources answer with is in a catalogue", () => {
  const used = new Map<string, string>();
  for (const file of [...sources("src"), ...sources("projections")]) {
    const text = readFileSync(resolve(root, file), "utf8");
    for (const pattern of CODE_PATTERNS) for (const match of text.matchAll(pattern)) used.set(match[1]!, file);
    // DomainError<"A" | "B">: the codes a subclass may carry.
    for (const match of text.matchAll(/DomainError<([^>]+)>/g)) for (const code of match[1]!.matchAll(/"([A-Z][A-Z0-9_]+)"/g)) used.set(code[1]!, file);
  }
  for (const code of [...PUBLIC_CODES, LIMIT_ERROR_CODE, PARSE_ERROR_CODE]) used.set(code, "src/platform/graphql");
  expect(used.size).toBeGreaterThan(20); // the scan finds what it should
  const missing = [...used].filter(([code]) => !catalogued.has(code)).map(([code, file]) => `${code} (${file})`);
  expect(missing).toEqual([]);
});

it("the codes the bus and reactors treat as transient are documented as worth resending", () => {
  for (const [code, { spec }] of catalogued) {
    if (isTransient(new DomainError(code, "probe"))) expect({ code, retryable: spec.retryable }).toEqual({ code, retryable: true });
  }
});

/** Calls every factory of an errors object with placeholder arguments: the errors it would build. */
function built(factories: Record<string, (...args: never[]) => Error>): DomainError[] {
  return Object.values(factories).map((factory) => {
    // Every parameter of these factories is interpolated or copied into details, so a string stands in for each.
    const error: unknown = Reflect.apply(factory, undefined, Array<string>(factory.length).fill("x"));
    if (!(error instanceof DomainError)) throw new Error(`${factory.name} did not build a DomainError`);
    return error;
  });
}

function refusal(run: () => void): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
  }
  throw new Error("expected a DomainError");
}

it("the details of the errors the code builds are the catalogued ones", () => {
  const errors: DomainError[] = [
    ...built(inventoryErrors),
    ...built(orderingErrors),
    ...built(paymentsErrors),
    new ValidationError("quantity", -1, "a positive integer"),
    new NotFoundError("Product", "TEA-1"),
    new ConcurrencyError("stream-1", 3, 5),
    new UnavailableError("Redis", new Error("down")),
    refusal(() => requireScope({ kind: "anonymous", subject: "anonymous" }, ["query"])),
    refusal(() => requireScope({ kind: "token", subject: "ada", scopes: new Set(), expiresAt: null, tokenId: "t" }, ["query"])),
  ];
  for (const error of errors) {
    const spec = catalogued.get(error.code)?.spec;
    expect({ code: error.code, undocumented: Object.keys(error.details).filter((field) => !spec || !(field in spec.details)) }).toEqual({
      code: error.code,
      undocumented: [],
    });
  }
});
