import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import express from "express";
import { type DocumentNode, type ExecutionArgs, getOperationAST, GraphQLError, type GraphQLFormattedError, type GraphQLSchema, NoSchemaIntrospectionCustomRule, type OperationDefinitionNode } from "graphql";
import { WebSocketServer } from "ws";
import type { Logger } from "../observability/logger";
import { apolloHandler } from "./apolloHttp";
import { AuthError, type Principal, principalKey, requireScope } from "./auth";
import { domainGraphQLError, formatError } from "./errors";
import { documentCache } from "./documentCache";
import { graphiql } from "./graphiql";
import { GRAPHIQL_ASSETS_PATH } from "./graphiqlAssets";
import { bodySteps, graphqlPost } from "./graphqlPost";
import { jsonBodyErrors } from "./httpErrors";
import { hardenHttp } from "./httpHardening";
import { authRefusalStatus } from "./httpStatus";
import { limitRules, parseAndValidate, parseOptions, type QueryLimits } from "./limits";
import { type BodyRequest, pathOf, queryParam } from "./nodeHttp";
import { SocketGuard, type SocketLimits } from "./socketGuard";
import { sharedSubscribe } from "./sharedExecution";
import { serveGraphQLOverWebSocket } from "./wsTransport";

export interface GraphQLServerOptions<Context extends object> {
  schema: GraphQLSchema;
  host: string;
  port: number;
  /** Who is calling, from an `Authorization` value: the HTTP header, or `connectionParams.authorization` over WebSocket. */
  authenticate(authorization: unknown): Promise<Principal>;
  /** Builds the per-operation context for that caller and what its request carries beside the operation. */
  context(principal: Principal, request: OperationRequest): Context;
  /** Scopes (any one) a WebSocket connection needs, checked at connection_init; refusals close it with 4401 or 4403. */
  connectionScopes: readonly string[];
  /** What one WebSocket may hold: operations in flight (per socket, per token) and bytes queued for it (see socketGuard.ts, wsTransport.ts). */
  webSocket: SocketLimits & { maxBufferedBytes: number };
  /** Depth, aliases, cost, tokens and directives one document may have, over HTTP and WebSocket alike. */
  limits: QueryLimits;
  /** Whether `__schema` and `__type` may be queried (GraphiQL's docs need them); without it, errors suggest no names either. */
  introspection: boolean;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** GraphiQL at GET /graphql for browsers; `enabled: false` answers them 404. */
  graphiql: { title: string; defaultQuery: string; enabled: boolean };
  log: Logger;
  /** Extra routes (health, admin) mounted before GraphQL. */
  routes?: (app: express.Express) => void;
  /** Extra Apollo plugins (metrics); they see operations over HTTP. */
  plugins?: ApolloServerPlugin[];
  /** Told of each operation started over WebSocket, with the error codes it was refused with (if any). */
  onWebSocketOperation?(operation: OperationDefinitionNode | undefined, errorCodes: readonly string[]): void;
}

/** What an operation's request carries outside the document: HTTP headers (none over WebSocket) and the `extensions` map. */
export interface OperationRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  extensions: Readonly<Record<string, unknown>>;
}

export interface RunningServer {
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

export const GRAPHQL_PATH = "/graphql";

/** WebSocket close codes of graphql-ws's convention for a refused connection_init. */
export const WS_UNAUTHORIZED = 4401;
export const WS_FORBIDDEN = 4403;

/** Apollo Server over HTTP and graphql-ws over WebSocket, on one port and one path. */
export async function startGraphQLServer<Context extends object>(
  options: GraphQLServerOptions<Context>,
): Promise<RunningServer> {
  const { schema, limits } = options;
  const log = (line: string) => options.log.error(line);
  // "Did you mean …?" would name fields that introspection hides.
  const hideSuggestions = !options.introspection;
  const format = (formatted: GraphQLFormattedError, error: unknown) => formatError(formatted, error, log, { hideSuggestions });
  // One rule set for both transports; introspection is refused by a rule too, so WebSocket refuses it alike.
  const rules = [...limitRules(limits), ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const app = express();
  const checkDocument = documentCache((query) => parseAndValidate(schema, query, limits, rules, hideSuggestions));
  // Its request listener is added once Apollo has started (below), before it listens.
  const httpServer = createServer();
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: options.maxBodyBytes });
  const principals = new WeakMap<object, Principal>();
  const guard = new SocketGuard(options.webSocket);
  // Per subscription: what its events' results depend on besides the event (sharedExecution.ts).
  const shareKeys = new WeakMap<ExecutionArgs, string>();
  const wsCleanup = serveGraphQLOverWebSocket(
    {
      schema,
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const principal = await options.authenticate(params.authorization ?? params.Authorization);
        try {
          requireScope(principal, options.connectionScopes);
        } catch (error) {
          if (!(error instanceof AuthError)) throw error;
          // Close with our code and reason; graphql-ws's own close after `false` is then a no-op.
          ctx.extra.socket.close(error.code === "UNAUTHENTICATED" ? WS_UNAUTHORIZED : WS_FORBIDDEN, error.message.slice(0, 123));
          return false;
        }
        principals.set(ctx, principal);
        guard.admit(ctx, principal, ctx.extra.end);
        return true;
      },
      // Parsed and validated here, with the same limits and error codes as over HTTP (graphql-ws's
      // default would close the whole connection on a syntax error).
      onSubscribe(ctx, _id, payload) {
        const checked = checkDocument(payload.query);
        if ("errors" in checked) {
          options.onWebSocketOperation?.(undefined, checked.errors.map((e) => String(e.extensions?.code ?? "GRAPHQL_VALIDATION_FAILED")));
          return checked.errors;
        }
        const operation = operationOf(checked.document, payload.operationName);
        // After validation: only operations that will run hold a place (onComplete or onClose gives it back).
        const refused = guard.enter(ctx, payload);
        options.onWebSocketOperation?.(operation, refused ? [refused.code] : []);
        if (refused) return [domainGraphQLError(refused)];
        const args: ExecutionArgs = { schema, document: checked.document, operationName: payload.operationName, variableValues: payload.variables };
        const principal = principals.get(ctx);
        if (principal) {
          shareKeys.set(args, JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null, payload.extensions ?? null, principalKey(principal)]));
        }
        return args;
      },
      subscribe: sharedSubscribe((args) => shareKeys.get(args) ?? null),
      onComplete: (ctx, _id, payload) => guard.leave(ctx, payload),
      onClose: (ctx) => guard.close(ctx),
      context: (ctx, _id, payload) => options.context(principals.get(ctx)!, { headers: {}, extensions: payload.extensions ?? {} }),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } : result,
    },
    wsServer,
    {
      maxBufferedBytes: options.webSocket.maxBufferedBytes,
      onSlowReader: (_extra, bytes) => options.log.warn(`api: closed a WebSocket whose client stopped reading (${bytes} bytes queued, WS_MAX_BUFFERED_BYTES=${options.webSocket.maxBufferedBytes})`),
      onError: (error) => log(`WebSocket error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    },
  );

  const apollo = new ApolloServer<Context>({
    schema,
    validationRules: rules,
    introspection: true, // decided by `rules` above
    parseOptions: parseOptions(limits),
    formatError: format,
    hideSchemaDetailsFromClientErrors: hideSuggestions,
    includeStacktraceInErrorResponses: false,
    // Off, and replaced by rules that hold without it (docs/decisions/0010): no ambient credentials
    // (bearer tokens only), POST bodies must be application/json (415 otherwise, a preflighted type),
    // and mutations never run over GET (405). It would otherwise refuse every GET query without a
    // custom header, which caches, CDNs and plain links cannot send.
    csrfPrevention: false,
    // The process owns shutdown order (HTTP, then workers, then connections); Apollo must not race it.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      subscriptionsOverWebSocketOnly,
      authRefusalStatus,
      // Its default landing pages load from Apollo's CDN; GraphiQL is served by the route below instead.
      ApolloServerPluginLandingPageDisabled(),
      ...(options.plugins ?? []),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  hardenHttp(app);
  const ide = graphiql({ endpoint: GRAPHQL_PATH, ...options.graphiql });
  options.routes?.(app);
  if (ide.assets) app.use(GRAPHIQL_ASSETS_PATH, ide.assets);
  app.get(GRAPHQL_PATH, ide.page);
  const context = async (req: BodyRequest) =>
    options.context(await options.authenticate(req.headers.authorization), { headers: req.headers, extensions: extensionsOf(req) });
  const post = graphqlPost({ apollo, context, maxBodyBytes: options.maxBodyBytes, log });
  // Exactly POST /graphql skips Express (graphqlPost.ts); every other request, other spellings of the path included, is Express's.
  httpServer.on("request", (req, res) => (req.method === "POST" && pathOf(req) === GRAPHQL_PATH ? post(req, res) : app(req, res)));
  app.use(
    GRAPHQL_PATH,
    ...bodySteps(options.maxBodyBytes),
    // GET replies keep Express's `res.send`: its ETag lets caches revalidate to a 304 (decision 0010).
    apolloHandler<Context, express.Request, express.Response>(apollo, context, (_req, res, body) => res.send(body)),
  );
  app.use(jsonBodyErrors(options.maxBodyBytes, log));

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port, options.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    wsUrl: `ws://${host}:${port}${GRAPHQL_PATH}`,
    close: () => apollo.stop(),
  };
}

/** A POST's `extensions` object, or a GET's `extensions` query parameter (JSON); Apollo itself refuses malformed ones. */
function extensionsOf(req: BodyRequest): Record<string, unknown> {
  const body: unknown = req.body;
  const raw: unknown = req.method === "GET" ? queryParam(req, "extensions") : isRecord(body) ? body["extensions"] : undefined;
  if (typeof raw !== "string") return isRecord(raw) ? raw : {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  return getOperationAST(document, operationName ?? undefined) ?? undefined;
}

/** graphql's `execute` would run a subscription over HTTP as if it were a query, with no event to resolve. */
const subscriptionsOverWebSocketOnly: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation !== "subscription") return;
        throw new GraphQLError(`Subscriptions are served over WebSocket (graphql-ws protocol) at ${GRAPHQL_PATH}, not over HTTP`, {
          extensions: { code: "BAD_REQUEST", http: { status: 400 } },
        });
      },
    };
  },
};
