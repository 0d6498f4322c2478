import { createHash } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLFormattedError } from "graphql";
import { ErrorCode } from "../core/errors";
import { sendHttpError } from "./httpErrors";
import { GRAPHQL_RESPONSE_JSON, responseMediaType } from "./mediaType";
import { type BodyRequest, type NodeMiddleware, queryParam } from "./nodeHttp";

export const WWW_AUTHENTICATE = 'Bearer realm="eventline"';
export const PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH";

const AUTH_CODES = new Set<unknown>([ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN]);

/**
 * 401 or 403 when access control refused the whole operation: every error is
 * UNAUTHENTICATED or FORBIDDEN and no root field produced a value. A partial
 * answer (one field allowed, one refused) stays 200, as the spec wants for
 * any reply with data.
 */
export function refusalStatus(result: { data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[] }): 401 | 403 | null {
  const errors = result.errors ?? [];
  if (!errors.length || !errors.every((e) => AUTH_CODES.has(e.extensions?.code))) return null;
  if (result.data) {
    const refusedFields = new Set(errors.map((e) => e.path?.[0]));
    if (!Object.entries(result.data).every(([key, value]) => value === null && refusedFields.has(key))) return null;
  }
  return errors.some((e) => e.extensions?.code === ErrorCode.UNAUTHENTICATED) ? 401 : 403;
}

/**
 * GraphQL over HTTP: with `application/graphql-response+json`, a refused
 * operation gets 401 (with WWW-Authenticate) or 403. With `application/json`
 * every well-formed GraphQL reply stays 200 (the spec's rule for that media
 * type, which older clients rely on), the code being in `extensions.code`.
 */
export const authRefusalStatus: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ request, response }) {
        if (response.body.kind !== "single") return;
        if (responseMediaType(request.http?.headers.get("accept")) !== GRAPHQL_RESPONSE_JSON) return;
        const status = refusalStatus(response.body.singleResult);
        if (!status) return;
        response.http.status = status;
        if (status === 401) response.http.headers.set("www-authenticate", WWW_AUTHENTICATE);
      },
    };
  },
};

function persistedQueryOf(req: BodyRequest): { query: unknown; hash: unknown; version: unknown } | null {
  let extensions: unknown;
  let query: unknown;
  if (req.method === "GET") {
    const raw = queryParam(req, "extensions");
    if (raw === undefined) return null;
    try {
      extensions = JSON.parse(raw);
    } catch {
      return null; // Apollo refuses malformed `extensions` itself, with a 400
    }
    query = queryParam(req, "query");
  } else {
    const body = req.body as { query?: unknown; extensions?: unknown } | undefined;
    extensions = body?.extensions;
    query = body?.query;
  }
  const persisted = (extensions as { persistedQuery?: { sha256Hash?: unknown; version?: unknown } } | null)?.persistedQuery;
  return persisted ? { query, hash: persisted.sha256Hash, version: persisted.version } : null;
}

/**
 * Automatic persisted queries: a query sent with a hash that is not its
 * SHA-256 is the caller's mistake (or a poisoning attempt), answered 400
 * PERSISTED_QUERY_HASH_MISMATCH; a version other than 1, 400 BAD_REQUEST.
 * Apollo Server's own answers to both are errors without a code, which the
 * error mapping can only treat as internal faults (logged with a stack).
 */
export const checkPersistedQueryHash: NodeMiddleware = (req, res, next) => {
  const persisted = persistedQueryOf(req);
  if (!persisted) return next();
  if (persisted.version !== 1) {
    return sendHttpError(req, res, 400, "BAD_REQUEST", `extensions.persistedQuery.version must be 1, got ${JSON.stringify(persisted.version)?.slice(0, 40) ?? "none"}`);
  }
  if (typeof persisted.query !== "string") return next();
  // Compared as Apollo Server does: lowercase hex, exactly.
  if (createHash("sha256").update(persisted.query).digest("hex") === persisted.hash) return next();
  sendHttpError(
    req,
    res,
    400,
    PERSISTED_QUERY_HASH_MISMATCH,
    `extensions.persistedQuery.sha256Hash ${JSON.stringify(persisted.hash)?.slice(0, 80) ?? "(none)"} is not the SHA-256 of the query sent with it (64 lowercase hex digits)`,
  );
};
