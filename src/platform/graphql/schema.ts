import "reflect-metadata";
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchema, type NonEmptyArray, type PubSub } from "type-graphql";
import { authChecker } from "./auth";

// type-graphql wants class constructors of any shape; resolvers are classes.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type ResolverClass = Function;

export async function buildGraphQLSchema(resolvers: readonly ResolverClass[], pubSub: PubSub): Promise<GraphQLSchema> {
  if (resolvers.length === 0) throw new Error("no resolvers registered");
  return buildSchema({
    resolvers: resolvers as NonEmptyArray<ResolverClass>,
    pubSub,
    validate: false,
    // `@Authorized(scope)` on resolvers; the checker throws UNAUTHENTICATED or FORBIDDEN itself.
    authChecker,
  });
}

/** The SDL committed in schema/schema.graphql; sorted so that diffs show real changes only. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
