import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import type { AppViewRoute } from "@bull-board/api/typings/app";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import type { RequestHandler } from "express";
import { AuthError, type Principal, requireScope, Scope } from "./auth";

export const ADMIN_QUEUES_PATH = "/admin/queues";

/**
 * Bull Board's entry page asks Google Fonts for its typeface; everything else
 * it needs is in the npm package. The page is served without that link, so
 * the board works offline and tells no third party who opened it.
 */
class OfflineExpressAdapter extends ExpressAdapter {
  constructor() {
    super();
    // The board is an Express app of its own, mounted in the api's: it would announce `X-Powered-By: Express` again.
    this.app.disable("x-powered-by");
  }

  override setEntryRoute(routeDef: AppViewRoute): ExpressAdapter {
    const routes = Array.isArray(routeDef.route) ? routeDef.route : [routeDef.route];
    this.app.get(routes, (_req, res, next) => {
      const { name, params } = routeDef.handler({ basePath: this.basePath, uiConfig: this.uiConfig });
      res.render(name, params, (error: Error | null, html: string) => (error ? next(error) : res.type("html").send(withoutRemoteAssets(html))));
    });
    return this;
  }
}

/** Drops `<link>` and `<script>` elements that load from another origin. */
export function withoutRemoteAssets(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi, "").replace(/<script\b[^>]*\bsrc="(?:https?:)?\/\/[^"]*"[^>]*>\s*<\/script>\s*/gi, "");
}

/** Admits only principals with the `admin` scope: 401 without a (valid) token, 403 with one that lacks the scope. */
export function requireAdmin(authenticate: (authorization: unknown) => Promise<Principal>): RequestHandler {
  return (req, res, next) => {
    authenticate(req.headers.authorization)
      .then((principal) => {
        requireScope(principal, [Scope.admin]);
        next();
      })
      .catch((error: unknown) => {
        if (!(error instanceof AuthError)) return next(error);
        const status = error.code === "UNAUTHENTICATED" ? 401 : 403;
        if (status === 401) res.set("WWW-Authenticate", 'Bearer realm="eventline"');
        res.status(status).json({ errors: [{ message: error.message, extensions: { code: error.code } }] });
      });
  };
}

/** The board's Express app for the given queues, to mount at ADMIN_QUEUES_PATH behind `requireAdmin`. */
export function adminBoard(queues: readonly Queue[]): RequestHandler {
  const adapter = new OfflineExpressAdapter();
  adapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    // @bull-board/express carries its own copy of @bull-board/api's types (9.10.1 beside 9.10.2): same shape, separate declarations.
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]["serverAdapter"],
    options: { uiConfig: { boardTitle: "Eventline queues" } },
  });
  return adapter.getRouter() as RequestHandler;
}
