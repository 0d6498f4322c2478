import { createHash } from "node:crypto";
import { pipeline, Readable } from "node:stream";
import { promisify } from "node:util";
import { brotliCompress, constants as zlib, gzip } from "node:zlib";
import * as bundle from "@graphql-yoga/render-graphiql/graphiql";
import express, { type Request, type Response, type Router } from "express";

/** Where GraphiQL's scripts, styles, workers and icon are served, each under a content-hashed name. */
export const GRAPHIQL_ASSETS_PATH = "/graphiql";

/** Hashed names never change content: caches may keep them for a year without asking again. */
export const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * Bytes handed to the socket at a time. A reader that does not read holds
 * back the stream after one chunk plus the socket's buffer, instead of a
 * whole copy of the page per client.
 */
export const STREAM_CHUNK_BYTES = 64 * 1024;

type Encoding = "br" | "gzip";

export interface Asset {
  name: string;
  type: string;
  body: Buffer;
  hash: string;
  /** Compressed once, on the first request that accepts the encoding, then shared by every client. */
  encoded: Map<Encoding, Promise<Buffer>>;
}

export interface GraphiQL {
  /** The small HTML shell (about 1 kB) that names the hashed assets. */
  html: string;
  assets: ReadonlyMap<string, Asset>;
  /** Serves the assets under GRAPHIQL_ASSETS_PATH. */
  router: Router;
}

function asset(base: string, ext: string, type: string, body: Buffer): Asset {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 20);
  return { name: `${base}.${hash}.${ext}`, type, body, hash, encoded: new Map() };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GraphiQL from @graphql-yoga/render-graphiql, taken apart: the package's
 * `renderGraphiQL` inlines 9 MB of script, style and workers into one page,
 * which no cache can keep apart from its options and which needs inline
 * scripts. Here each part is a file of its own with a content hash in its
 * name, and the page's start-up code is a file too, so the page runs under
 * `script-src 'self'` with no inline script, fully offline.
 */
export function graphiqlAssets(options: { endpoint: string; title: string; defaultQuery: string }): GraphiQL {
  const text = (s: string) => Buffer.from(s, "utf8");
  const favicon = /^data:([^;,]+);base64,(.*)$/.exec(bundle.favicon);
  const parts = {
    css: asset("graphiql", "css", "text/css; charset=utf-8", text(bundle.css)),
    js: asset("graphiql", "js", "text/javascript; charset=utf-8", text(bundle.js)),
    editorWorker: asset("editor.worker", "js", "text/javascript; charset=utf-8", text(bundle.editorWorkerService)),
    jsonWorker: asset("json.worker", "js", "text/javascript; charset=utf-8", text(bundle.jsonWorker)),
    graphqlWorker: asset("graphql.worker", "js", "text/javascript; charset=utf-8", text(bundle.graphqlWorker)),
    favicon: favicon ? asset("favicon", "ico", favicon[1]!, Buffer.from(favicon[2]!, "base64")) : null,
  };
  const url = (a: Asset) => `${GRAPHIQL_ASSETS_PATH}/${a.name}`;
  // Monaco asks for its workers by label; same-origin URLs instead of the package's blob: URLs, so `worker-src 'self'` holds.
  const environment = asset(
    "monaco-environment",
    "js",
    "text/javascript; charset=utf-8",
    text(
      `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: function (moduleId, label) { return ${JSON.stringify({
        editorWorkerService: url(parts.editorWorker),
        json: url(parts.jsonWorker),
        graphql: url(parts.graphqlWorker),
      })}[label]; } };\n`,
    ),
  );
  const start = asset(
    "start",
    "js",
    "text/javascript; charset=utf-8",
    text(
      `YogaGraphiQL.renderYogaGraphiQL(document.querySelector("#root"), ${JSON.stringify({
        endpoint: options.endpoint,
        subscriptionsProtocol: "WS",
        title: options.title,
        defaultQuery: options.defaultQuery,
        shouldPersistHeaders: false,
      })});\n`,
    ),
  );
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title)}</title>
    ${parts.favicon ? `<link rel="icon" href="${url(parts.favicon)}" />` : ""}
    <link rel="stylesheet" href="${url(parts.css)}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script src="${url(environment)}"></script>
    <script src="${url(parts.js)}"></script>
    <script src="${url(start)}"></script>
  </body>
</html>
`;
  const all = [...Object.values(parts), environment, start].filter((a): a is Asset => a !== null);
  const assets = new Map(all.map((a) => [a.name, a]));
  const router = express.Router();
  router.get("/:name", (req, res, next) => {
    const found = assets.get(req.params.name);
    if (!found) return next();
    serveAsset(req, res, found).catch(next);
  });
  return { html, assets, router };
}

function compress(a: Asset, encoding: Encoding): Promise<Buffer> {
  let pending = a.encoded.get(encoding);
  if (!pending) {
    // zlib runs on libuv's thread pool: the event loop keeps serving while a first visitor's copy is made.
    // Brotli quality 5: within 5 % of the best size here at a tenth of the time of quality 11.
    pending =
      encoding === "br"
        ? promisify(brotliCompress)(a.body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: a.body.length } })
        : promisify(gzip)(a.body, { level: 6 });
    a.encoded.set(encoding, pending);
  }
  return pending;
}

/** The chunks of a shared buffer: views, not copies. */
function* chunksOf(body: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < body.length; offset += STREAM_CHUNK_BYTES) yield body.subarray(offset, offset + STREAM_CHUNK_BYTES);
}

/** Streams `body` into `destination` a chunk at a time, waiting for it to drain (backpressure). */
export function streamBuffer(body: Buffer, destination: NodeJS.WritableStream, done: (error?: Error | null) => void): void {
  pipeline(Readable.from(chunksOf(body), { objectMode: false, highWaterMark: STREAM_CHUNK_BYTES }), destination, (error) => done(error));
}

/**
 * One asset, compressed as the client accepts (br, gzip, else as is), with an
 * ETag from its hash so a revalidation is a 304 and no body.
 */
export async function serveAsset(req: Request, res: Response, a: Asset): Promise<void> {
  const encoding = req.acceptsEncodings("br", "gzip");
  const chosen: Encoding | null = encoding === "br" || encoding === "gzip" ? encoding : null;
  res.set({
    "Content-Type": a.type,
    "Cache-Control": IMMUTABLE,
    Vary: "Accept-Encoding",
    ETag: `"${a.hash}${chosen ? `-${chosen}` : ""}"`,
  });
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  const body = chosen ? await compress(a, chosen) : a.body;
  // A Content-Encoding set here also tells the `compression` middleware to leave the reply alone.
  if (chosen) res.set("Content-Encoding", chosen);
  res.set("Content-Length", String(body.length));
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  // A client that goes away mid-stream ends the pipeline with an error; nothing is left to answer.
  streamBuffer(body, res, () => undefined);
}
