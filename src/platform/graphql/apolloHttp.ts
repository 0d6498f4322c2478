import type { ServerResponse } from "node:http";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import { type BodyRequest, endWith } from "./nodeHttp";

/** How a complete reply to a GET is written (a POST's is always one `res.end` with its length): by default like a POST's. */
export type SendComplete<Req extends BodyRequest, Res extends ServerResponse> = (req: Req, res: Res, body: string) => void;

/**
 * Apollo Server as a handler of Node's request and reply, after the JSON body
 * parser: what @as-integrations/express5's `expressMiddleware` did, without Express.
 * A complete POST reply is one `res.end(string)` with its length: Express's
 * `res.send` would hash it for an ETag (SHA-1), copy it to a Buffer and check
 * freshness, none of which means anything for a POST, and that was a visible
 * share of a small query's CPU (BENCHMARKS.md). GET replies (cacheable,
 * decision 0010) are given to `sendComplete`, which Express's route sets to
 * `res.send` for its ETag and 304. The security headers and compression wrap
 * `res` before this runs.
 */
export function apolloHandler<Context extends BaseContext, Req extends BodyRequest, Res extends ServerResponse>(
  server: ApolloServer<Context>,
  context: (req: Req) => Promise<Context>,
  sendComplete: SendComplete<Req, Res> = (_req, res, body) => endWith(res, body),
): (req: Req, res: Res) => Promise<void> {
  server.assertStarted("apolloHandler()");
  return async (req, res) => {
    if (!("body" in req)) {
      res.statusCode = 500;
      res.end("`req.body` is not set: the json middleware must run before Apollo Server");
      return;
    }
    const headers = new HeaderMap();
    for (const key in req.headers) {
      const value = req.headers[key];
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const url = req.url ?? "";
    const query = url.indexOf("?");
    const search = query < 0 ? "" : url.slice(query).split("#", 1)[0]!;
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers, search, body: req.body },
      context: () => context(req),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      if (req.method === "POST") endWith(res, response.body.string);
      else sendComplete(req, res, response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) {
      res.write(chunk);
      // compression buffers; incremental delivery must reach the client chunk by chunk.
      if ("flush" in res && typeof res.flush === "function") res.flush();
    }
    res.end();
  };
}
