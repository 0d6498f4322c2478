import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import type express from "express";

/**
 * Apollo Server as an express handler: @as-integrations/express5's
 * `expressMiddleware`, but a complete POST reply is written with one
 * `res.end(string)` instead of `res.send`. `res.send` hashes every body for an
 * ETag (SHA-1), converts it to a Buffer and checks freshness, none of which
 * means anything for a POST (no conditional requests), and that was a visible
 * share of a small query's CPU (BENCHMARKS.md). GET replies (cacheable, decision
 * 0010) keep `res.send` and its ETag/304. Headers, status and body are otherwise
 * the same; the security headers and compression wrap `res` before this runs.
 */
export function apolloHandler<Context extends BaseContext>(
  server: ApolloServer<Context>,
  context: (args: { req: express.Request; res: express.Response }) => Promise<Context>,
): express.RequestHandler {
  server.assertStarted("apolloHandler()");
  return async (req, res) => {
    if (!("body" in req)) {
      res.status(500).send("`req.body` is not set: the json middleware must run before Apollo Server");
      return;
    }
    const headers = new HeaderMap();
    for (const key in req.headers) {
      const value = req.headers[key];
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const query = req.url.indexOf("?");
    const search = query < 0 ? "" : req.url.slice(query).split("#", 1)[0]!;
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search, body: req.body as unknown },
      context: () => context({ req, res }),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      if (req.method !== "POST") {
        res.send(response.body.string);
        return;
      }
      res.setHeader("Content-Length", Buffer.byteLength(response.body.string));
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) {
      res.write(chunk);
      // compression buffers; incremental delivery must reach the client chunk by chunk.
      (res as express.Response & { flush?: () => void }).flush?.();
    }
    res.end();
  };
}
