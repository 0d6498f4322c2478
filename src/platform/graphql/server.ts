import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { type DocumentNode, getOperationAST, GraphQLError, type GraphQLSchema, NoSchemaIntrospectionCustomRule, type OperationDefinitionNode } from "graphql";
import { WebSocketServer } from "ws";
import type { Logger } from "../observability/logger";
import { AuthError, type Principal, requireScope } from "./auth";
import { domainGraphQLError, formatError } from "./errors";
import { graphiqlPage, wantsHtml } from "./graphiql";
import { jsonBodyErrors, requireJsonBody } from "./httpErrors";
import { limitRules, parseAndValidate, parseOptions, type QueryLimits } from "./limits";
import { SocketGuard, type SocketLimits } from "./socketGuard";
import { serveGraphQLOverWebSocket } from "./wsTransport";

export interface GraphQLServerOptions<Context extends object> {
  schema: GraphQLSchema;
  host: string;
  port: number;
  /** Who is calling, from an `Authorization` value: the HTTP header, or `connectionParams.authorization` over WebSocket. */
  authenticate(authorization: unknown): Promise<Principal>;
  /** Builds the per-operation context for that caller. */
  context(principal: Principal): Context;
  /** Scopes (any one) a WebSocket connection needs, checked at connection_init; refusals close it with 4401 or 4403. */
  connectionScopes: readonly string[];
  /** What one WebSocket may hold: operations in flight (per socket, per token) and bytes queued for it (see socketGuard.ts, wsTransport.ts). */
  webSocket: SocketLimits & { maxBufferedBytes: number };
  /** Depth, aliases, cost, tokens and directives one document may have, over HTTP and WebSocket alike. */
  limits: QueryLimits;
  /** Whether `__schema` and `__type` may be queried (GraphiQL's docs need them). */
  introspection: boolean;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  graphiql: { title: string; defaultQuery: string };
  log: Logger;
  /** Extra routes (health, admin) mounted before GraphQL. */
  routes?: (app: express.Express) => void;
  /** Extra Apollo plugins (metrics); they see operations over HTTP. */
  plugins?: ApolloServerPlugin[];
  /** Told of each operation started over WebSocket, with the error codes it was refused with (if any). */
  onWebSocketOperation?(operation: OperationDefinitionNode | undefined, errorCodes: readonly string[]): void;
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
  // One rule set for both transports; introspection is refused by a rule too, so WebSocket refuses it alike.
  const rules = [...limitRules(limits), ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const app = express();
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: options.maxBodyBytes });
  const principals = new WeakMap<object, Principal>();
  const guard = new SocketGuard(options.webSocket);
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
        const checked = parseAndValidate(schema, payload.query, limits, rules);
        if ("errors" in checked) {
          options.onWebSocketOperation?.(undefined, checked.errors.map((e) => String(e.extensions?.code ?? "GRAPHQL_VALIDATION_FAILED")));
          return checked.errors;
        }
        const operation = operationOf(checked.document, payload.operationName);
        // After validation: only operations that will run hold a place (onComplete or onClose gives it back).
        const refused = guard.enter(ctx, payload);
        options.onWebSocketOperation?.(operation, refused ? [refused.code] : []);
        if (refused) return [domainGraphQLError(refused)];
        return { schema, document: checked.document, operationName: payload.operationName, variableValues: payload.variables };
      },
      onComplete: (ctx, _id, payload) => guard.leave(ctx, payload),
      onClose: (ctx) => guard.close(ctx),
      context: (ctx) => options.context(principals.get(ctx)!),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, log)) } : result,
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
    formatError: (formatted, error) => formatError(formatted, error, log),
    includeStacktraceInErrorResponses: false,
    // The process owns shutdown order (HTTP, then workers, then connections); Apollo must not race it.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      subscriptionsOverWebSocketOnly,
      ...(options.plugins ?? []),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  const page = graphiqlPage({ endpoint: GRAPHQL_PATH, ...options.graphiql });
  options.routes?.(app);
  app.get(GRAPHQL_PATH, (req, res, next) => {
    if (!wantsHtml(req.headers.accept)) return next();
    res.type("html").send(page);
  });
  app.use(
    GRAPHQL_PATH,
    express.json({ limit: options.maxBodyBytes }),
    requireJsonBody,
    expressMiddleware(apollo, {
      context: async ({ req }) => options.context(await options.authenticate(req.headers.authorization)),
    }),
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
