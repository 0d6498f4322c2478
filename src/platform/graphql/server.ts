import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import type { GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { formatError } from "./errors";
import { graphiqlPage, wantsHtml } from "./graphiql";

export interface GraphQLServerOptions<Context extends object> {
  schema: GraphQLSchema;
  host: string;
  port: number;
  /** Builds the per-operation context from HTTP headers or WebSocket connection params. */
  context(source: { headers: IncomingHttpHeaders; connectionParams?: Readonly<Record<string, unknown>> }): Promise<Context>;
  graphiql: { title: string; defaultQuery: string };
  log(line: string): void;
  /** Largest accepted request body. */
  bodyLimit?: string;
  /** Extra routes (health, admin) mounted before GraphQL. */
  routes?: (app: express.Express) => void;
}

export interface RunningServer {
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

export const GRAPHQL_PATH = "/graphql";

/** Apollo Server over HTTP and graphql-ws over WebSocket, on one port and one path. */
export async function startGraphQLServer<Context extends object>(
  options: GraphQLServerOptions<Context>,
): Promise<RunningServer> {
  const app = express();
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  const wsCleanup = useServer(
    {
      schema: options.schema,
      context: (ctx) => options.context({ headers: ctx.extra.request.headers, connectionParams: ctx.connectionParams ?? {} }),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, options.log)) }
          : result,
    },
    wsServer,
  );

  const apollo = new ApolloServer<Context>({
    schema: options.schema,
    formatError: (formatted, error) => formatError(formatted, error, options.log),
    // The process owns shutdown order (HTTP, then workers, then connections); Apollo must not race it.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
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
    express.json({ limit: options.bodyLimit ?? "100kb" }),
    expressMiddleware(apollo, { context: ({ req }) => options.context({ headers: req.headers }) }),
  );

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
