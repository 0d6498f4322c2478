import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type DocumentNode,
  execute,
  type ExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import type { Principal } from "./auth";
import { refusalStatus, WWW_AUTHENTICATE } from "./httpStatus";
import type { CheckedDocument } from "./documentCache";
import { GRAPHQL_RESPONSE_JSON, responseMediaType, type ResponseMediaType } from "./mediaType";

/**
 * POST /graphql queries without Express and Apollo Server on the way
 * (decision 0029). A small query spends most of the api's CPU in the layers
 * around graphql-js: Express's router, body-parser, type-is, Apollo's request
 * pipeline and plugin hooks. This path answers the common case itself, with
 * the same rules: the same parse and validation (graphql-armor's limits, the
 * introspection rule), the same authentication and context, the same error
 * formatting and status codes, the same security headers and compression.
 *
 * It takes only what it answers exactly as Apollo would: a JSON POST with a
 * known length, a query operation whose document validates, and an execution
 * that started (variables coerced). Everything else (GET, mutations,
 * persisted queries, documents with errors, a token that is refused, chunked
 * bodies) goes on to Express unchanged, with the body already parsed.
 */

export interface FastQueryOptions<Context extends object> {
  schema: GraphQLSchema;
  path: string;
  /** Parse and validation, with the same limits and rules as Apollo's (cached: documentCache.ts). */
  check(query: string): CheckedDocument;
  maxBodyBytes: number;
  authenticate(authorization: unknown): Promise<Principal>;
  /** The server's context function (server.ts's OperationRequest, spelled out: server.ts imports this file). */
  context(principal: Principal, request: { headers: Readonly<Record<string, string | string[] | undefined>>; extensions: Readonly<Record<string, unknown>> }): Context;
  /** The server's formatError (Apollo's `formatError` option). */
  format(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** Headers every reply carries (helmet's), computed once. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Told of each operation answered here, with the codes of its errors (metrics). */
  onOperation?(operation: OperationDefinitionNode, errorCodes: readonly string[]): void;
  log(line: string): void;
}

/**
 * Hands a request on to Express: untouched, or read already, with its parsed
 * body (`value`) or the reason it could not be parsed (`malformed`, answered as
 * body-parser's parse errors are).
 */
export type PassOn = (read?: PreRead) => void;

export type PreRead = { value: unknown } | { malformed: MalformedBody } | { reply: Reply };

/** A reply made here that Express sends, so that its compression middleware wraps it. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** compression's default threshold: smaller replies are never compressed. */
const COMPRESSION_THRESHOLD = 1024;
interface Prepared {
  document: DocumentNode;
  operations: Map<string | undefined, OperationDefinitionNode | null>;
}

export function fastQueries<Context extends object>(options: FastQueryOptions<Context>) {
  const prepared = new WeakMap<DocumentNode, Prepared>();

  const prepare = (query: string): Prepared | null => {
    const checked = options.check(query);
    // Documents with errors are Apollo's to answer (400 and its messages).
    if ("errors" in checked) return null;
    let known = prepared.get(checked.document);
    if (!known) prepared.set(checked.document, (known = { document: checked.document, operations: new Map() }));
    return known;
  };

  const operationOf = (prepared: Prepared, name: string | undefined): OperationDefinitionNode | null => {
    let operation = prepared.operations.get(name);
    if (operation === undefined) {
      operation = getOperationAST(prepared.document, name) ?? null;
      if (prepared.operations.size < 16) prepared.operations.set(name, operation);
    }
    return operation;
  };

  /** Small replies are written here; one worth compressing goes through Express's compression middleware. */
  const send = (req: IncomingMessage, res: ServerResponse, passOn: PassOn, status: number, mediaType: ResponseMediaType, body: string, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { "content-type": `${mediaType}; charset=utf-8`, ...extra };
    const length = Buffer.byteLength(body);
    if (length >= COMPRESSION_THRESHOLD && req.headers["accept-encoding"] !== undefined) {
      return passOn({ reply: { status, headers: { ...headers, "content-length": String(length) }, body } }); // compression drops the length when it compresses
    }
    res.statusCode = status;
    for (const [name, value] of options.headers) res.setHeader(name, value);
    for (const name in headers) res.setHeader(name, headers[name]!);
    res.setHeader("vary", "Accept-Encoding"); // as compression sets it on every compressible reply
    res.setHeader("content-length", length);
    res.end(body);
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, raw: Buffer, mediaType: ResponseMediaType, passOn: PassOn): Promise<void> => {
    let body: unknown;
    try {
      // raw-body's decoder drops a byte-order mark; body-parser's strict mode takes only objects and arrays.
      body = JSON.parse(raw.toString("utf8", hasBom(raw) ? 3 : 0));
    } catch (error) {
      return passOn({ malformed: new MalformedBody(error instanceof Error ? error.message : String(error)) });
    }
    if (typeof body !== "object" || body === null) return passOn({ malformed: new MalformedBody("the body must be a JSON object") });
    const request = queryRequestOf(body);
    const prepared = request && prepare(request.query);
    const operation = prepared && operationOf(prepared, request.operationName);
    if (!request || !prepared || operation?.operation !== "query") return passOn({ value: body });
    let principal: Principal;
    try {
      principal = await options.authenticate(req.headers.authorization);
    } catch {
      return passOn({ value: body }); // Apollo answers a refused token (its status and message)
    }
    const contextValue = options.context(principal, { headers: req.headers, extensions: request.extensions });
    const result: ExecutionResult = await execute({
      schema: options.schema,
      document: prepared.document,
      operationName: request.operationName,
      variableValues: request.variables,
      contextValue,
    });
    // No data: execution never started (variables did not coerce), so nothing ran; Apollo answers that with its 400.
    if (result.data === undefined) return passOn({ value: body });
    const { errors, status, headers } = formatErrors(result.errors ?? [], options.format);
    options.onOperation?.(operation, errors.map((e) => (typeof e.extensions?.code === "string" ? e.extensions.code : "UNKNOWN")));
    const reply = { ...(errors.length ? { errors } : {}), data: result.data, ...(result.extensions ? { extensions: result.extensions } : {}) };
    let code = status ?? 200;
    const extra: Record<string, string> = { ...headers, "cache-control": "no-store" };
    if (mediaType === GRAPHQL_RESPONSE_JSON) {
      const refused = refusalStatus(reply);
      if (refused) {
        code = refused;
        if (refused === 401) extra["www-authenticate"] = WWW_AUTHENTICATE;
      }
    }
    send(req, res, passOn, code, mediaType, JSON.stringify(reply) + "\n", extra);
  };

  return {
    /** Answers `req` if it is a query this path takes; otherwise `passOn` hands it to Express. */
    handle(req: IncomingMessage, res: ServerResponse, passOn: PassOn): void {
      if (req.method !== "POST" || req.url !== options.path || !isPlainJson(req.headers["content-type"]) || req.headers["content-encoding"] !== undefined) {
        return passOn();
      }
      const length = Number(req.headers["content-length"]);
      const mediaType = responseMediaType(req.headers.accept);
      if (!Number.isInteger(length) || length <= 0 || length > options.maxBodyBytes || !mediaType) return passOn();
      readBody(req, length).then(
        (raw) =>
          answer(req, res, raw, mediaType, passOn).catch((error: unknown) => {
            options.log(`internal error answering a query: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
            if (!res.headersSent) send(req, res, passOn, 500, mediaType, JSON.stringify({ errors: [{ message: "Internal server error", extensions: { code: "INTERNAL" } }] }) + "\n");
            else res.destroy();
          }),
        () => res.destroy(), // the client went away mid-body
      );
    },
  };
}

/** A body that was not JSON, shaped as body-parser's parse error, so that Express's error handler answers it alike. */
export class MalformedBody extends Error {
  readonly status = 400;
  readonly type = "entity.parse.failed";
}

function hasBom(raw: Buffer): boolean {
  return raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
}

interface QueryRequest {
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  extensions: Record<string, unknown>;
}

const REQUEST_KEYS = new Set(["query", "operationName", "variables", "extensions"]);

/** The body as a plain query request, or null for anything Apollo should look at (persisted queries, odd shapes). */
function queryRequestOf(body: unknown): QueryRequest | null {
  if (!isRecord(body) || typeof body.query !== "string") return null;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return null;
  const { operationName, variables, extensions } = body;
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") return null;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return null;
  if (extensions !== undefined && extensions !== null && (!isRecord(extensions) || "persistedQuery" in extensions)) return null;
  return {
    query: body.query,
    operationName: operationName ?? undefined,
    variables: variables ?? undefined,
    extensions: extensions ?? {},
  };
}

/** Apollo's normalizeAndFormatErrors: a code on every error (INTERNAL_SERVER_ERROR by default), `extensions.http` taken out as the reply's status and headers. */
function formatErrors(
  errors: readonly GraphQLError[],
  format: FastQueryOptions<object>["format"],
): { errors: GraphQLFormattedError[]; status: number | undefined; headers: Record<string, string> } {
  let status: number | undefined;
  const headers: Record<string, string> = {};
  const formatted = errors.map((error) => {
    const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? "INTERNAL_SERVER_ERROR" };
    const http = extensions.http;
    if (isRecord(http)) {
      if (typeof http.status === "number") status = http.status;
      if (http.headers instanceof Map) for (const [name, value] of http.headers) if (typeof name === "string" && typeof value === "string") headers[name] = value;
      delete extensions.http;
    }
    try {
      return format({ ...error.toJSON(), extensions }, error);
    } catch {
      return { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } };
    }
  });
  return { errors: formatted, status, headers };
}

/** `application/json`, optionally with a UTF-8 charset: the only bodies read here. */
function isPlainJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const normalized = contentType.toLowerCase().replace(/\s+/g, "");
  return normalized === "application/json" || normalized === "application/json;charset=utf-8";
}

function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.once("end", () => (received === length ? resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)) : reject(new Error("short body"))));
    req.once("error", reject);
    req.once("aborted", () => reject(new Error("aborted")));
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
