import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { DomainError } from "../core/errors";
import { explainLimit, withoutSuggestions } from "./limits";

/** Codes produced by GraphQL itself or Apollo; safe to show as they are. */
export const PUBLIC_CODES: ReadonlySet<string> = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

/**
 * The one place where errors become GraphQL errors. Domain errors keep their
 * code and details; GraphQL's own validation errors pass; anything else is an
 * internal fault, logged in full and shown only as INTERNAL.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  log: (line: string) => void = console.error,
  options: { hideSuggestions?: boolean } = {},
): GraphQLFormattedError {
  const result = format(formatted, error, log);
  return options.hideSuggestions ? { ...result, message: withoutSuggestions(result.message) } : result;
}

function format(formatted: GraphQLFormattedError, error: unknown, log: (line: string) => void): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) {
    return {
      message: original.message,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: original.code, ...original.details },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && PUBLIC_CODES.has(code)) return { ...formatted, message: explainLimit(formatted.message) };
  if (code === undefined && !formatted.path) {
    // Errors raised while validating variables or the document carry no path and no code.
    return { ...formatted, extensions: { ...formatted.extensions, code: "BAD_USER_INPUT" } };
  }
  log(`internal error: ${original instanceof Error ? (original.stack ?? original.message) : String(original)}`);
  return {
    message: "Internal server error",
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: "INTERNAL" },
  };
}

/** A domain error where graphql-ws wants a GraphQLError (a refused `subscribe`): the code and details formatError gives it. */
export function domainGraphQLError(error: DomainError): GraphQLError {
  return new GraphQLError(error.message, { originalError: error, extensions: { code: error.code, ...error.details } });
}
