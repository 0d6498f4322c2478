/**
 * `compression` is connect middleware: it reads Node's request and wraps Node's
 * reply, and runs the same with or without Express in front. @types/compression
 * types it as an Express handler, which would keep it off the api's POST path
 * that bypasses Express (graphqlPost.ts), so it is declared here with the Node
 * types it actually needs. Only the options the api passes are declared.
 */
declare module "compression" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  function compression(): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
  export = compression;
}
