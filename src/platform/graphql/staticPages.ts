import express from "express";
import type { StaticPage } from "../service";
import { GRAPHIQL_ASSETS_PATH } from "./graphiqlAssets";
import { GRAPHQL_PATH } from "./server";

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
