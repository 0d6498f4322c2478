import compression from "compression";
import type express from "express";
import helmet from "helmet";
import type { NodeMiddleware } from "./nodeHttp";

/**
 * One Content-Security-Policy for every page the api serves: GraphiQL, the
 * services' static pages and Bull Board.
 *
 * - Scripts: same origin only, no inline script and no eval. GraphiQL's
 *   start-up code is a hashed file (graphiqlAssets.ts), the dashboard loads
 *   ES modules, and Bull Board's page has only a JSON data block (which CSP
 *   does not treat as script).
 * - Styles: same origin plus inline, because Monaco (GraphiQL's editor) and
 *   Bull Board's React set `style` attributes and insert `<style>` elements at
 *   run time, with content no hash can name in advance. Inline styles cannot
 *   run code; the script policy is what stops injection.
 * - Workers: GraphiQL's Monaco workers are same-origin files, so no `blob:`.
 * - connect-src 'self' covers the GraphQL WebSocket on the same host and port.
 * - No framing anywhere (clickjacking), no plugins, no `<base>` tricks.
 */
export const CSP_DIRECTIVES = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'", "'unsafe-inline'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'", "data:"],
  "connect-src": ["'self'"],
  "worker-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'self'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
} as const;

export function contentSecurityPolicy(): string {
  return Object.entries(CSP_DIRECTIVES)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

/**
 * Headers on every reply (helmet): the CSP above, `nosniff`, `X-Frame-Options:
 * DENY`, no `X-Powered-By`, same-origin resource and opener policies and no
 * referrer. HSTS is left to whatever terminates TLS in front of the api: it
 * speaks plain HTTP itself, where the header means nothing, and a wrong max-age
 * set here would outlive a fix.
 */
export function securityHeaders(): NodeMiddleware {
  return helmet({
    contentSecurityPolicy: {
      // Helmet's defaults add `upgrade-insecure-requests`, which breaks the api's own pages over plain HTTP.
      useDefaults: false,
      directives: Object.fromEntries(Object.entries(CSP_DIRECTIVES).map(([k, v]) => [k, [...v]])),
    },
    frameguard: { action: "deny" },
    strictTransportSecurity: false,
    referrerPolicy: { policy: "no-referrer" },
  });
}

/**
 * gzip or brotli for what is made per request (GraphQL replies, the pages,
 * Bull Board), by the `compression` middleware. GraphiQL's hashed assets come
 * compressed already and set Content-Encoding, which this leaves alone.
 */
export function compressReplies(): NodeMiddleware {
  return compression();
}

/** Everything above, in order, for the front of a route that bypasses Express (graphqlPost.ts). */
export function hardeningSteps(): NodeMiddleware[] {
  return [securityHeaders(), compressReplies()];
}

/** Everything above, in order, at the front of the app. */
export function hardenHttp(app: express.Express): void {
  app.disable("x-powered-by");
  app.use(...hardeningSteps());
}
