import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

/** A request once the JSON body parser has seen it: `body` stays unset when the parser did not take it. */
export type BodyRequest = IncomingMessage & { body?: unknown };

export type Next = (error?: unknown) => void;

/**
 * Connect-style middleware on Node's own request and reply. Express mounts it
 * as it is, and `pipeline` runs it without Express (graphqlPost.ts).
 */
export type NodeMiddleware = (req: BodyRequest, res: ServerResponse, next: Next) => void;

/** A complete reply with its length, in one write. */
export function endWith(res: ServerResponse, body: string): void {
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

/**
 * Runs `steps` in order, then `handler`. An error a step passes to `next`,
 * or one `handler` rejects with, goes to `onError`; a step that answers
 * itself (and does not call `next`) ends the request there.
 */
export function pipeline(
  steps: readonly NodeMiddleware[],
  handler: (req: BodyRequest, res: ServerResponse) => Promise<void>,
  onError: (error: unknown, req: BodyRequest, res: ServerResponse) => void,
): RequestListener {
  return (req: BodyRequest, res) => {
    const fail = (error: unknown) => onError(error, req, res);
    const run = (index: number): void => {
      const step = steps[index];
      if (!step) {
        handler(req, res).catch(fail);
        return;
      }
      try {
        step(req, res, (error) => (error === undefined ? run(index + 1) : fail(error)));
      } catch (error) {
        fail(error);
      }
    };
    run(0);
  };
}

/**
 * One query-string parameter, or undefined when it is absent or repeated (where
 * Express's parser gives an array, which no caller here accepts either).
 */
export function queryParam(req: IncomingMessage, name: string): string | undefined {
  const url = req.url ?? "";
  const start = url.indexOf("?");
  if (start < 0) return undefined;
  const values = new URLSearchParams(url.slice(start + 1).split("#", 1)[0]).getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

/** The request's path, without its query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const end = url.indexOf("?");
  return end < 0 ? url : url.slice(0, end);
}
