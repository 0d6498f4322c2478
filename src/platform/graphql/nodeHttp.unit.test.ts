import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { type NodeMiddleware, pathOf, pipeline, queryParam } from "./nodeHttp";

function request(url: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.url = url;
  return req;
}

describe("pipeline", () => {
  /** Runs the pipeline once; what ran, in order, and the error that reached onError (if any). */
  async function run(steps: NodeMiddleware[], handler: () => Promise<void> = async () => undefined) {
    const ran: string[] = [];
    let failed: unknown;
    const req = request("/graphql");
    const listener = pipeline(
      steps.map((step, i) => (rq, rs, next) => {
        ran.push(`step ${i}`);
        step(rq, rs, next);
      }),
      async () => {
        ran.push("handler");
        await handler();
      },
      (error) => (failed = error),
    );
    listener(req, new ServerResponse(req));
    await new Promise((resolve) => setImmediate(resolve));
    return { ran, failed };
  }
  const pass: NodeMiddleware = (_req, _res, next) => next();

  it("runs every step in order, then the handler", async () => {
    expect(await run([pass, pass])).toEqual({ ran: ["step 0", "step 1", "handler"], failed: undefined });
  });

  it("stops at a step that answers itself", async () => {
    expect(await run([pass, () => undefined, pass])).toEqual({ ran: ["step 0", "step 1"], failed: undefined });
  });

  it("hands an error passed to next, thrown by a step, or rejected by the handler to onError, and runs nothing after it", async () => {
    const passed = new Error("passed");
    const thrown = new Error("thrown");
    const rejected = new Error("rejected");
    expect(await run([(_q, _s, next) => next(passed), pass])).toEqual({ ran: ["step 0"], failed: passed });
    expect(
      await run([
        () => {
          throw thrown;
        },
        pass,
      ]),
    ).toEqual({ ran: ["step 0"], failed: thrown });
    expect(await run([pass], () => Promise.reject(rejected))).toEqual({ ran: ["step 0", "handler"], failed: rejected });
  });
});

describe("queryParam and pathOf", () => {
  it("reads one decoded parameter, and nothing for an absent or repeated one", () => {
    const req = request("/graphql?query=%7B%20a%20%7D&extensions=%7B%7D&x=1&x=2#frag");
    expect(queryParam(req, "query")).toBe("{ a }");
    expect(queryParam(req, "extensions")).toBe("{}");
    expect(queryParam(req, "x")).toBeUndefined();
    expect(queryParam(req, "missing")).toBeUndefined();
    expect(queryParam(request("/graphql"), "query")).toBeUndefined();
  });

  it("gives the path without its query string", () => {
    expect(pathOf(request("/graphql?query=1"))).toBe("/graphql");
    expect(pathOf(request("/graphql/"))).toBe("/graphql/");
  });
});
