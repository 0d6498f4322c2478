import type { Request, RequestHandler } from "express";
import { type GraphiQL, graphiqlAssets } from "./graphiqlAssets";
import { sendHttpError } from "./httpErrors";

/** Browsers ask for HTML; GraphQL clients ask for JSON. */
export function wantsHtml(accept: string | undefined): boolean {
  return !!accept && accept.includes("text/html");
}

/** A browser's GET of the endpoint itself, not a GraphQL GET (which carries `query` or `extensions`). */
function isPageRequest(req: Request): boolean {
  return wantsHtml(req.headers.accept) && req.query.query === undefined && req.query.extensions === undefined;
}

export interface GraphiQLOptions {
  endpoint: string;
  title: string;
  defaultQuery: string;
  /** Off: browsers get a 404 that says how to turn it on (NODE_ENV=production turns it off by default). */
  enabled: boolean;
}

/**
 * GET /graphql from a browser: the GraphiQL shell (small; `no-cache` so a new
 * release's asset names are picked up, with express's ETag so a revalidation
 * is a 304), its hashed assets beside it, or a refusal when it is off.
 */
export function graphiql(options: GraphiQLOptions): { page: RequestHandler; assets: GraphiQL["router"] | null } {
  if (!options.enabled) {
    return {
      assets: null,
      page: (req, res, next) => {
        if (!isPageRequest(req)) return next();
        sendHttpError(req, res, 404, "NOT_FOUND", "GraphiQL is not served here: it is off with NODE_ENV=production unless GRAPHIQL_ENABLED=true");
      },
    };
  }
  const built = graphiqlAssets(options);
  return {
    assets: built.router,
    page: (req, res, next) => {
      if (!isPageRequest(req)) return next();
      res.set("Cache-Control", "no-cache").type("html").send(built.html);
    },
  };
}
