import express from "express";
import { GRAPHIQL_ASSETS_PATH } from "./graphiqlAssets";
import { GRAPHQL_PATH } from "./server";

/**
 * A folder of static files (index.html plus its scripts and styles) served
 * under `path`. The files must be self-contained: the api sends them with a
 * Content-Security-Policy that allows nothing but the same origin, so a page
 * works offline and cannot pull from a CDN.
 */
export interface StaticPage {
  /** URL path, e.g. `/dashboard`; the folder's index.html answers `/dashboard/`. */
  readonly path: string;
  /** Absolute path of the folder, e.g. `join(__dirname, "dashboard")`. */
  readonly directory: string;
  /** Named in the start-up log, e.g. "Sales dashboard". */
  readonly title: string;
}

/**
 * Same origin only: scripts, styles and the GraphQL WebSocket all come from
 * the api itself (`'self'` covers ws: on the same host), so a page can never
 * depend on a CDN, and an injected script has nowhere to send data.
 */
export const STATIC_PAGE_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE_PATH = /^\/[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/;

/** Mounts each page's folder under its path; refuses paths that are malformed, taken twice or GraphQL's and GraphiQL's own. */
export function mountStaticPages(app: express.Express, pages: readonly StaticPage[]): void {
  const seen = new Set<string>([GRAPHQL_PATH, GRAPHIQL_ASSETS_PATH]);
  for (const page of pages) {
    if (!PAGE_PATH.test(page.path)) {
      throw new Error(`Static page '${page.title}': path ${JSON.stringify(page.path)} must look like /name or /name/sub (lowercase letters, digits, -)`);
    }
    if (seen.has(page.path)) throw new Error(`Static page '${page.title}': path ${page.path} is already taken`);
    seen.add(page.path);
    app.use(
      page.path,
      (_req, res, next) => {
        res.setHeader("Content-Security-Policy", STATIC_PAGE_CSP);
        res.setHeader("X-Content-Type-Options", "nosniff");
        next();
      },
      // `/dashboard` redirects to `/dashboard/`, so the page's relative asset URLs resolve inside its folder.
      express.static(page.directory, { index: "index.html", dotfiles: "ignore", redirect: true }),
    );
  }
}
