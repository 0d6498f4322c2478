import { ApolloServer, HeaderMap } from "@apollo/server";
import { Arg, buildSchema, Field, ID, Int, ObjectType, Query, Resolver } from "type-graphql";
import { closedLoop } from "./load";

/**
 * Apollo Server's own cost per request: `executeHTTPGraphQLRequest` in this
 * process, with no network, no Express and no Redis, over a schema whose
 * `product(id)` answers a constant of the api's shape. Whatever serves GraphQL
 * with @apollo/server (a required part) pays at least this on top of what a
 * plain handler pays for HTTP and the Redis read.
 */
@ObjectType()
class BenchProduct {
  @Field(() => ID) id!: string;
  @Field() sku!: string;
  @Field() name!: string;
  @Field(() => Int) priceMinor!: number;
  @Field() currency!: string;
  @Field(() => Int) available!: number;
  @Field(() => Int) reserved!: number;
  @Field() inStock!: boolean;
  @Field(() => Int) version!: number;
  @Field(() => String, { nullable: true }) position!: string | null;
}

@Resolver()
class BenchProductResolver {
  @Query(() => BenchProduct, { nullable: true })
  product(@Arg("id", () => ID) id: string, @Arg("waitFor", () => String, { nullable: true }) _waitFor: string | null): BenchProduct {
    return { id, sku: id, name: id, priceMinor: 100, currency: "EUR", available: 10, reserved: 0, inStock: true, version: 1, position: null };
  }
}

/** CPU µs per request of Apollo's pipeline alone, after `warmupMs` of the same load. */
export async function apolloCpuPerRequest(query: string, options: { concurrency: number; requests: number; warmupMs: number }): Promise<number> {
  // This process has loaded the app's resolvers too (type-graphql keeps one global registry): they are not in this schema.
  const schema = await buildSchema({ resolvers: [BenchProductResolver], validate: false, authChecker: () => true });
  if (Object.keys(schema.getQueryType()?.getFields() ?? {}).join() !== "product") throw new Error("the bench schema has other queries than product");
  const server = new ApolloServer({ schema });
  await server.start();
  try {
    const headers = new HeaderMap([["content-type", "application/json"]]);
    const op = async (i: number) => {
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: "POST", headers, search: "", body: { query, variables: { id: `SKU-${i % 1000}` } } },
        context: async () => ({}),
      });
      if (response.body.kind !== "complete" || !response.body.string.includes('"product"')) throw new Error("Apollo answered no product");
    };
    if (options.warmupMs > 0) await closedLoop({ concurrency: options.concurrency, durationMs: options.warmupMs, op });
    const before = process.cpuUsage();
    const { ops } = await closedLoop({ concurrency: options.concurrency, total: options.requests, op });
    const used = process.cpuUsage(before);
    return (used.user + used.system) / ops;
  } finally {
    await server.stop();
  }
}
