import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  parse,
  type ParseOptions,
  specifiedRules,
  validate,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/** What one GraphQL document may ask for; each is an environment variable (see README, Configuration). */
export interface QueryLimits {
  /** Nesting of selections (MAX_QUERY_DEPTH). */
  maxDepth: number;
  /** Aliased fields, fragments included (MAX_ALIASES). */
  maxAliases: number;
  /** graphql-armor's cost: objects 2, scalars 1, ×1.5 per level, ×`first` of a list (MAX_QUERY_COST). */
  maxCost: number;
  /** Lexical tokens of the document, checked while parsing (MAX_QUERY_TOKENS). */
  maxTokens: number;
  /** Directives (MAX_DIRECTIVES). */
  maxDirectives: number;
}

export const LIMIT_ERROR_CODE = "GRAPHQL_VALIDATION_FAILED";
export const PARSE_ERROR_CODE = "GRAPHQL_PARSE_FAILED";

/**
 * graphql-armor's rules, reporting through the validation context rather
 * than throwing (a throw escapes graphql's `validate` as an internal error).
 * The message says which variable raises the limit.
 */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  const report = (variable: string, max: number) => ({
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(
          new GraphQLError(`${error.message.replace(/^Syntax Error: /, "").replace(/\.$/, "")} (${variable})`, {
            extensions: { code: LIMIT_ERROR_CODE, limit: variable, max },
          }),
        ),
    ],
  });
  return [
    maxDepthRule({ n: limits.maxDepth, ...report("MAX_QUERY_DEPTH", limits.maxDepth) }),
    maxAliasesRule({ n: limits.maxAliases, ...report("MAX_ALIASES", limits.maxAliases) }),
    costLimitRule({ maxCost: limits.maxCost, ...report("MAX_QUERY_COST", limits.maxCost) }),
    maxDirectivesRule({ n: limits.maxDirectives, ...report("MAX_DIRECTIVES", limits.maxDirectives) }),
  ] as ValidationRule[];
}

export function parseOptions(limits: QueryLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/**
 * Parse and validate as Apollo does over HTTP, for the WebSocket transport:
 * the same limits, and errors with the same codes.
 */
export function parseAndValidate(
  schema: GraphQLSchema,
  query: string,
  limits: QueryLimits,
  rules: readonly ValidationRule[] = limitRules(limits),
  hideSuggestions = false,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(query, parseOptions(limits));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { errors: [withCode(error instanceof GraphQLError ? error : new GraphQLError(message), PARSE_ERROR_CODE)] };
  }
  const errors = validate(schema, document, [...specifiedRules, ...rules]);
  if (!errors.length) return { document };
  const coded = errors.map((e) => withCode(e, LIMIT_ERROR_CODE));
  return { errors: hideSuggestions ? coded.map((e) => new GraphQLError(withoutSuggestions(e.message), e)) : coded };
}

/**
 * graphql-js ends many messages with `Did you mean "rebuildProjection"?`: with
 * introspection off, that would name what introspection hides. The same
 * expression as Apollo's `hideSchemaDetailsFromClientErrors`, but applied to
 * every message (variable coercion too, and WebSocket), not only validation's.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean[^?]*\?/g, "");
}

/** graphql's own messages for its parse and validation budgets do not say what was exceeded; these do. */
export function explainLimit(message: string): string {
  const tokens = /^Syntax Error: Document contains more that (\d+) tokens/.exec(message);
  if (tokens) return `Syntax Error: the document has more than ${tokens[1]} tokens (MAX_QUERY_TOKENS)`;
  if (message === "Validation aborted.") {
    return "Validation aborted: the document's fields and fragments take too much work to validate";
  }
  return message;
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(explainLimit(error.message), {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    extensions: { ...error.extensions, code: typeof error.extensions.code === "string" ? error.extensions.code : code },
  });
}
