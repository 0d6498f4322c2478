import { bearer, JWT_ENV, token } from "./support/auth";
import { gql } from "./support/graphqlClient";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { jsonLines } from "./support/logs";
import { spawnRole } from "./support/processes";
import { eventually, startSystem, type RunningSystem } from "./support/system";

/**
 * Bull Board under /admin/queues, for the `admin` scope only, with its assets
 * from the npm package; and OpenTelemetry tracing switched on by
 * OTEL_ENABLED, spans written as JSON lines (no collector), one trace from the
 * HTTP request through the command queue into the service's SQL.
 */
let system: RunningSystem;
let base: string;
let admin: Record<string, string>;
let reader: Record<string, string>;

beforeAll(async () => {
  system = await startSystem(["api", "inventory"], { ...JWT_ENV, OTEL_ENABLED: "true" });
  base = system.url.replace(/\/graphql$/, "");
  admin = bearer(await token("ops", "admin"));
  reader = bearer(await token("reader", "query"));
}, 60_000);

afterAll(async () => {
  expect((await system.shutdown()).every((c) => c === 0)).toBe(true);
});

describe("Bull Board", () => {
  it("serves the board to an admin token, with every asset from this server", async () => {
    const response = await fetch(`${base}/admin/queues`, { headers: admin });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<base href="/admin/queues/"');
    const references = [...html.matchAll(/\b(?:href|src)="([^"]*)"/g)].map((m) => m[1]!);
    expect(references.length).toBeGreaterThan(3);
    for (const reference of references) expect(reference).toMatch(/^(?:\/admin\/queues\/|static\/)/);
    expect(html).not.toMatch(/https?:\/\//);
    // The assets it names are served, behind the same gate.
    const stylesheet = references.find((r) => r.endsWith(".css"))!;
    const asset = await fetch(`${base}/admin/queues/${stylesheet}`, { headers: admin });
    expect({ status: asset.status, type: asset.headers.get("content-type") }).toEqual({ status: 200, type: expect.stringMatching(/^text\/css/) });
    expect((await fetch(`${base}/admin/queues/${stylesheet}`)).status).toBe(401);
  });

  it("lists the platform's queues through its API", async () => {
    const response = await fetch(`${base}/admin/queues/api/queues`, { headers: admin });
    expect(response.status).toBe(200);
    const { queues } = (await response.json()) as { queues: Array<{ name: string }> };
    expect(queues.map((q) => q.name).sort()).toEqual(["commands.inventory", "commands.ordering", "commands.payments", "commands.saga", "projector", "sagas"]);
  });

  it("refuses a token without the admin scope (403), no token and a bad one (401)", async () => {
    const forbidden = await fetch(`${base}/admin/queues`, { headers: reader });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN" }, message: expect.stringContaining("'admin'") }] });
    const anonymous = await fetch(`${base}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await anonymous.json()).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: "Bearer not-a-jwt" } })).status).toBe(401);
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: reader })).status).toBe(403);
  });

  it("leaves /health, /ready and /metrics open, for probes and scrapers", async () => {
    for (const path of ["/health", "/ready", "/metrics"]) expect({ path, status: (await fetch(`${base}${path}`)).status }).toEqual({ path, status: 200 });
  });
});

describe("OpenTelemetry", () => {
  it("traces a mutation from HTTP through GraphQL and BullMQ into the service's SQL, across processes", async () => {
    const writer = bearer(await token("writer", "command:inventory"));
    const result = await gql(system.url, `mutation TracedDefine { defineProduct(input: { sku: "TRACED", name: "t", priceMinor: 1, currency: "EUR", initialStock: 1 }) { position } }`, {}, writer);
    expect(result.errors).toBeUndefined();

    const spans = (role: string) => jsonLines(system.role(role).output()).filter((l) => typeof l.span === "string") as Array<{ span: string; traceId: string; service: string }>;
    const mutation = await eventually(async () => spans("api").find((s) => s.span === "mutation TracedDefine"), "the mutation's span");
    const inTrace = (role: string) => spans(role).filter((s) => s.traceId === mutation.traceId).map((s) => s.span);
    // Spans are written when they end; the outer ones (the request, the job) end last, after the response went out.
    await eventually(async () => inTrace("inventory").includes("process commands.inventory") && inTrace("api").includes("POST"), "the trace's spans");
    expect(inTrace("inventory").filter((s) => s.startsWith("pg.query:eventline_append"))).toHaveLength(1);

    expect(inTrace("api")).toEqual(expect.arrayContaining(["POST", "graphql.parse", "graphql.validate", "mutation TracedDefine", "add commands.inventory.command"]));
    expect(inTrace("inventory")).toEqual(expect.arrayContaining(["process commands.inventory"]));
    expect(spans("api").some((s) => s.span === "get" || s.span === "evalsha")).toBe(true); // ioredis
    expect(spans("inventory").every((s) => s.service === "eventline-inventory")).toBe(true);
    expect(system.role("api").output()).toMatch(/tracing on: spans to console/);
  });

  it("sends spans to OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP when one is set, and nothing to stdout", async () => {
    const received: Array<{ path: string; type: string; body: string }> = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ path: req.url ?? "", type: req.headers["content-type"] ?? "", body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const api = spawnRole("api", { ...system.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    try {
      const url = (await api.waitFor(/GraphiQL at (\S+)/))[1]!;
      await api.waitFor(/ready \(api\)/);
      expect(api.output()).toContain(`tracing on: spans to otlp ${endpoint}`);
      const reader = bearer(await token("reader", "query"));
      expect((await gql(url, "query CollectedProducts { products(first: 1) { totalCount } }", {}, reader)).errors).toBeUndefined();
      // The batch processor sends every few seconds.
      await eventually(async () => received.some((r) => r.body.includes("query CollectedProducts")), "the collector to receive the query's span", 30_000);
      expect(received.every((r) => r.path === "/v1/traces")).toBe(true);
      expect(received[0]!.type).toMatch(/^application\/(json|x-protobuf)/);
      expect(jsonLines(api.output()).filter((l) => typeof l.span === "string")).toEqual([]);
    } finally {
      expect(await api.stop()).toBe(0);
      await new Promise((resolve) => collector.close(resolve));
    }
  }, 60_000);
});
