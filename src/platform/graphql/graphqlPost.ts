import type { RequestListener } from "node:http";
import type { ApolloServer, BaseContext } from "@apollo/server";
import express from "express";
import { apolloHandler } from "./apolloHttp";
import { answerErrorBeforeGraphQL, requireJsonBody } from "./httpErrors";
import { hardeningSteps } from "./httpHardening";
import { checkPersistedQueryHash } from "./httpStatus";
import { type BodyRequest, type NodeMiddleware, pipeline } from "./nodeHttp";

export interface GraphQLPostOptions<Context extends BaseContext> {
  apollo: ApolloServer<Context>;
  context: (req: BodyRequest) => Promise<Context>;
  maxBodyBytes: number;
  log: (line: string) => void;
}

/**
 * `POST /graphql` on Node's http, without Express: every query and command a
 * client sends over HTTP. Express's own request handling (its router and the
 * request and reply prototypes it swaps in) cost about 120 µs of CPU per
 * request here, more than Apollo's whole pipeline (decision 0033). The steps
 * are the Express route's, in its order and with the same answers: security
 * headers, compression, the JSON body parser with the same limit, 415 for a
 * body that is not JSON, the persisted-query check, then Apollo Server, with
 * refusals before GraphQL answered as the Express app answers them.
 */
export function graphqlPost<Context extends BaseContext>(options: GraphQLPostOptions<Context>): RequestListener {
  return pipeline(
    postSteps(options.maxBodyBytes),
    apolloHandler(options.apollo, options.context),
    answerErrorBeforeGraphQL(options.maxBodyBytes, options.log),
  );
}

/** What runs before Apollo Server on this path, in order (the `query` bench prices these alone). */
export function postSteps(maxBodyBytes: number): NodeMiddleware[] {
  return [...hardeningSteps(), ...bodySteps(maxBodyBytes)];
}

/** The body's parser and checks before Apollo Server, on both ways in: this path and the Express route (server.ts). */
export function bodySteps(maxBodyBytes: number): NodeMiddleware[] {
  return [express.json({ limit: maxBodyBytes }), requireJsonBody, checkPersistedQueryHash];
}
