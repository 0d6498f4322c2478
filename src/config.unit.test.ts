import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CONFIG_VARIABLES, ConfigError, loadConfig, loadTracingConfig } from "./config";

const SECRET = "s".repeat(32);

describe("access control mode", () => {
  it("is dev without a secret outside production", () => {
    expect(loadConfig({}).AUTH_MODE).toBe("dev");
    expect(loadConfig({ NODE_ENV: "test" }).AUTH_MODE).toBe("dev");
  });

  it("is jwt as soon as a secret is set", () => {
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET })).toMatchObject({ AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET });
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET, NODE_ENV: "production" }).AUTH_MODE).toBe("jwt");
  });

  it("refuses production without a secret, naming AUTH_JWT_SECRET", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/AUTH_JWT_SECRET is not set and NODE_ENV=production/);
    expect(() => loadConfig({ NODE_ENV: "production", AUTH_MODE: "", AUTH_JWT_SECRET: "" })).toThrow(/AUTH_JWT_SECRET/);
  });

  it("runs production without access control only when AUTH_MODE=dev says so", () => {
    expect(loadConfig({ NODE_ENV: "production", AUTH_MODE: "dev" }).AUTH_MODE).toBe("dev");
  });

  it("refuses AUTH_MODE=jwt without a secret, a short secret and an unknown mode", () => {
    expect(() => loadConfig({ AUTH_MODE: "jwt" })).toThrow(/AUTH_MODE=jwt needs AUTH_JWT_SECRET/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: "short" })).toThrow(/AUTH_JWT_SECRET=<5 characters>: must be at least 32 characters/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: "short" })).not.toThrow(/short/);
    expect(() => loadConfig({ AUTH_MODE: "none" })).toThrow(/AUTH_MODE="none"/);
  });
});

describe("request limits", () => {
  it("have defaults", () => {
    expect(loadConfig({})).toMatchObject({
      MAX_BODY_BYTES: 102_400,
      MAX_QUERY_DEPTH: 8,
      MAX_ALIASES: 15,
      MAX_QUERY_COST: 20_000,
      MAX_QUERY_TOKENS: 2000,
      MAX_DIRECTIVES: 20,
    });
  });

  it("are read from the environment and validated, naming the variable", () => {
    expect(loadConfig({ MAX_QUERY_DEPTH: "12", MAX_BODY_BYTES: "2048" })).toMatchObject({ MAX_QUERY_DEPTH: 12, MAX_BODY_BYTES: 2048 });
    expect(() => loadConfig({ MAX_QUERY_DEPTH: "0" })).toThrow(/MAX_QUERY_DEPTH="0"/);
    expect(() => loadConfig({ MAX_QUERY_COST: "lots" })).toThrow(/MAX_QUERY_COST="lots"/);
  });

  it("introspection is on except in production, unless set", () => {
    expect(loadConfig({}).GRAPHQL_INTROSPECTION).toBe(true);
    expect(loadConfig({ NODE_ENV: "production", AUTH_MODE: "dev" }).GRAPHQL_INTROSPECTION).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", AUTH_MODE: "dev", GRAPHQL_INTROSPECTION: "true" }).GRAPHQL_INTROSPECTION).toBe(true);
    expect(loadConfig({ GRAPHQL_INTROSPECTION: "false" }).GRAPHQL_INTROSPECTION).toBe(false);
  });
});

describe("WebSocket bounds and token claims", () => {
  it("have defaults: 100 operations per socket, 500 per token, 1 MiB queued per socket, no issuer or audience check", () => {
    expect(loadConfig({})).toMatchObject({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: 100, WS_MAX_SUBSCRIPTIONS_PER_TOKEN: 500, WS_MAX_BUFFERED_BYTES: 1_048_576 });
    expect(loadConfig({ AUTH_JWT_ISSUER: "", AUTH_JWT_AUDIENCE: "" })).toMatchObject({ AUTH_JWT_ISSUER: undefined, AUTH_JWT_AUDIENCE: undefined });
  });

  it("are read from the environment and validated, naming the variable", () => {
    expect(loadConfig({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "5", WS_MAX_BUFFERED_BYTES: "65536", AUTH_JWT_ISSUER: "https://id.example", AUTH_JWT_AUDIENCE: "eventline" })).toMatchObject({
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: 5,
      WS_MAX_BUFFERED_BYTES: 65_536,
      AUTH_JWT_ISSUER: "https://id.example",
      AUTH_JWT_AUDIENCE: "eventline",
    });
    expect(() => loadConfig({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "0" })).toThrow(/WS_MAX_SUBSCRIPTIONS_PER_SOCKET="0"/);
    expect(() => loadConfig({ WS_MAX_SUBSCRIPTIONS_PER_TOKEN: "many" })).toThrow(/WS_MAX_SUBSCRIPTIONS_PER_TOKEN="many"/);
    expect(() => loadConfig({ WS_MAX_BUFFERED_BYTES: "100" })).toThrow(/WS_MAX_BUFFERED_BYTES="100"/);
  });
});

it("README's Configuration table documents every variable", () => {
  const readme = readFileSync(resolve(__dirname, "../README.md"), "utf8");
  const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Scripts"));
  const documented = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect(CONFIG_VARIABLES.filter((name) => !documented.includes(name))).toEqual([]);
});

describe("operability", () => {
  it("has defaults: info logs, no separate metrics port, a 60 s lag bound, tracing off", () => {
    expect(loadConfig({})).toMatchObject({ LOG_LEVEL: "info", READY_MAX_LAG_SECONDS: 60, OTEL_ENABLED: "false" });
    expect(loadConfig({}).METRICS_PORT).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "0" }).METRICS_PORT).toBe(0);
  });

  it("refuses an unknown log level, a bad port and a malformed collector URL, naming the variable", () => {
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL="loud"/);
    expect(() => loadConfig({ METRICS_PORT: "70000" })).toThrow(/METRICS_PORT="70000"/);
    expect(() => loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(loadTracingConfig({ OTEL_ENABLED: "true", OTEL_TRACES_EXPORTER: "none" })).toMatchObject({ OTEL_ENABLED: "true", OTEL_TRACES_EXPORTER: "none" });
  });
});

describe("the HTTP edge", () => {
  it("serves GraphiQL by default, except in production where it must be asked for", () => {
    expect(loadConfig({}).GRAPHIQL_ENABLED).toBe(true);
    expect(loadConfig({ NODE_ENV: "production", AUTH_MODE: "dev" }).GRAPHIQL_ENABLED).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", AUTH_MODE: "dev", GRAPHIQL_ENABLED: "true" }).GRAPHIQL_ENABLED).toBe(true);
    expect(loadConfig({ GRAPHIQL_ENABLED: "false" }).GRAPHIQL_ENABLED).toBe(false);
    expect(() => loadConfig({ GRAPHIQL_ENABLED: "yes" })).toThrow(/GRAPHIQL_ENABLED="yes"/);
  });

  it("takes a metrics token of 16 characters or more and never prints it", () => {
    expect(loadConfig({ METRICS_TOKEN: "a-metrics-token-0123" }).METRICS_TOKEN).toBe("a-metrics-token-0123");
    expect(() => loadConfig({ METRICS_TOKEN: "short-secretish" })).toThrow(/METRICS_TOKEN=<15 characters>: must be at least 16/);
    expect(() => loadConfig({ METRICS_TOKEN: "with a space in the token" })).toThrow(/METRICS_TOKEN=<25 characters>/);
    expect(loadConfig({ METRICS_HOST: "10.0.0.5" }).METRICS_HOST).toBe("10.0.0.5");
  });
});

describe("projection segments", () => {
  it("are none by default, and name=count pairs otherwise", () => {
    expect(loadConfig({}).PROJECTION_SEGMENTS).toEqual({});
    expect(loadConfig({ PROJECTION_SEGMENTS: "" }).PROJECTION_SEGMENTS).toEqual({});
    expect(loadConfig({ PROJECTION_SEGMENTS: "orders=4" }).PROJECTION_SEGMENTS).toEqual({ orders: 4 });
    expect(loadConfig({ PROJECTION_SEGMENTS: " orders = 4 , products=64" }).PROJECTION_SEGMENTS).toEqual({ orders: 4, products: 64 });
  });

  it("refuse counts out of 1..64 and malformed pairs, saying what is valid", () => {
    for (const value of ["orders=0", "orders=65", "orders", "orders=4,", "=4", "orders=x", "orders=4;products=2"]) {
      expect(() => loadConfig({ PROJECTION_SEGMENTS: value })).toThrow(/PROJECTION_SEGMENTS=.*name=count pairs/);
    }
  });
});
