import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorRequestHandler } from "express";
import { errorMessage } from "../core/errors";
import { APPLICATION_JSON, responseMediaType } from "./mediaType";
import { type BodyRequest, endWith, type NodeMiddleware } from "./nodeHttp";

/**
 * HTTP-level refusals, before GraphQL sees the request, as GraphQL-shaped
 * JSON with a code and a 4xx status (Express's default would be an HTML page),
 * in the media type Apollo would have answered with (application/json when
 * `Accept` allows neither: an error is more use to the caller than a 406).
 */
export function sendHttpError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  res.setHeader("Content-Type", `${responseMediaType(req.headers.accept) ?? APPLICATION_JSON}; charset=utf-8`);
  endWith(res, JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/** A POST whose body was not JSON (wrong or missing Content-Type) never reaches Apollo. */
export const requireJsonBody: NodeMiddleware = (req, res, next) => {
  if (req.method === "POST" && req.body === undefined) {
    return sendHttpError(req, res, 415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json, got ${JSON.stringify(req.headers["content-type"] ?? "none")}`);
  }
  // GET requests carry the operation in the query string; the Apollo integration wants a body all the same.
  if (req.body === undefined) req.body = {};
  next();
};

interface HttpError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/** Errors of the JSON body parser (too large, malformed, bad charset) and anything else thrown before Apollo, as Express's error handler. */
export function jsonBodyErrors(maxBodyBytes: number, log: (line: string) => void): ErrorRequestHandler {
  const answer = answerErrorBeforeGraphQL(maxBodyBytes, log);
  return (error: unknown, req, res, next) => (res.headersSent ? next(error) : answer(error, req, res));
}

/** The same answers without Express (graphqlPost.ts); a reply already under way can only be cut short. */
export function answerErrorBeforeGraphQL(maxBodyBytes: number, log: (line: string) => void) {
  return (error: unknown, req: BodyRequest, res: ServerResponse): void => {
    if (res.headersSent) {
      log(`internal error while answering: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      res.destroy();
      return;
    }
    const e = (typeof error === "object" && error !== null ? error : {}) as HttpError;
    const status = e.status ?? e.statusCode ?? 500;
    if (status === 413 || e.type === "entity.too.large") {
      return sendHttpError(req, res, 413, "PAYLOAD_TOO_LARGE", `Request body is larger than ${maxBodyBytes} bytes (MAX_BODY_BYTES)`);
    }
    if (e.type === "entity.parse.failed") return sendHttpError(req, res, 400, "BAD_REQUEST", `Malformed JSON body: ${errorMessage(error)}`);
    if (status >= 400 && status < 500) {
      return sendHttpError(req, res, status, "BAD_REQUEST", e.expose ? errorMessage(error) : "Bad request");
    }
    log(`internal error before GraphQL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sendHttpError(req, res, 500, "INTERNAL", "Internal server error");
  };
}
