import type { GraphQLSchema } from "graphql";
import { silentLogger } from "../../src/platform/observability/logger";
import type { Principal } from "../../src/platform/graphql/auth";
import { type GraphQLServerOptions, type RunningServer, startGraphQLServer } from "../../src/platform/graphql/server";

type ToyOptions = GraphQLServerOptions<{ principal: Principal }>;

/**
 * The GraphQL server in process, on a free port, around a toy schema: every
 * caller anonymous and the context only the principal, unless `overrides`
 * says otherwise (the tests of the HTTP and WebSocket edges).
 */
export function startToyGraphQLServer(schema: GraphQLSchema, overrides: Partial<ToyOptions> = {}): Promise<RunningServer> {
  return startGraphQLServer<{ principal: Principal }>({
    schema,
    host: "127.0.0.1",
    port: 0,
    authenticate: async () => ({ kind: "anonymous", subject: "anonymous" }),
    context: (principal) => ({ principal }),
    connectionScopes: ["query"],
    webSocket: { maxPerSocket: 5, maxPerToken: 8, maxBufferedBytes: 64 * 1024 },
    limits: { maxDepth: 8, maxAliases: 15, maxCost: 20_000, maxTokens: 2000, maxDirectives: 20 },
    introspection: false,
    maxBodyBytes: 100 * 1024,
    graphiql: { title: "test", defaultQuery: "", enabled: false },
    log: silentLogger(),
    ...overrides,
  });
}
