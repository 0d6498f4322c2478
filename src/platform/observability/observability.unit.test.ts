import { withoutRemoteAssets } from "../graphql/adminBoard";
import { readiness } from "./health";
import { commandType, streamCategory } from "./metrics";

describe("withoutRemoteAssets", () => {
  it("drops stylesheets and scripts from other origins and keeps local ones", () => {
    const html = [
      '<link rel="icon" href="static/favicon.png">',
      '<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans" rel="stylesheet">',
      '<link href="//cdn.example.com/x.css" rel="stylesheet">',
      '<script defer src="https://cdn.example.com/lib.js"></script>',
      '<link href="static/css/main.css" rel="stylesheet"></head>',
      '<script defer src="static/js/main.js"></script>',
    ].join("\n");
    expect(withoutRemoteAssets(html)).toBe(
      ['<link rel="icon" href="static/favicon.png">', '<link href="static/css/main.css" rel="stylesheet"></head>', '<script defer src="static/js/main.js"></script>'].join("\n"),
    );
  });
});

describe("readiness", () => {
  it("is ready when every check passes, and names each failing check's problem otherwise", async () => {
    expect(await readiness([{ name: "a", check: async () => null }])).toEqual({ ready: true, checks: { a: { ok: true, ms: expect.any(Number) } } });
    const result = await readiness([
      { name: "fine", check: async () => null },
      { name: "said", check: async () => "projection x is 9 s behind" },
      { name: "threw", check: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1")) },
    ]);
    expect(result).toEqual({
      ready: false,
      checks: {
        fine: { ok: true, ms: expect.any(Number) },
        said: { ok: false, ms: expect.any(Number), error: "projection x is 9 s behind" },
        threw: { ok: false, ms: expect.any(Number), error: "connect ECONNREFUSED 127.0.0.1:1" },
      },
    });
  });

  it("counts a check that hangs as failed after the timeout", async () => {
    const result = await readiness([{ name: "stuck", check: () => new Promise(() => undefined) }], 30);
    expect(result).toEqual({ ready: false, checks: { stuck: { ok: false, ms: expect.any(Number), error: "no answer within 30 ms" } } });
  });
});

describe("metric labels", () => {
  it("take a command's type only when it is a plain identifier", () => {
    expect(commandType({ type: "ReserveStock", sku: "x" })).toBe("ReserveStock");
    expect(commandType({ type: "drop table; --" })).toBe("unknown");
    expect(commandType({ type: 42 })).toBe("unknown");
    expect(commandType(null)).toBe("unknown");
  });

  it("name a stream's category by its leading word", () => {
    expect(streamCategory("ordering.order-o-1")).toBe("ordering");
    expect(streamCategory("saga.checkout-o-1")).toBe("saga");
    expect(streamCategory("-odd")).toBe("other");
  });
});
