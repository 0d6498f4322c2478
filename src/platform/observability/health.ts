import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler, type Router } from "express";
import { errorMessage } from "../core/errors";
import type { Metrics } from "./metrics";

/** One dependency or condition readiness depends on; throws (or resolves a problem) when it does not hold. */
export interface ReadinessCheck {
  name: string;
  /** Resolves null when fine, or a sentence saying what is wrong. */
  check(): Promise<string | null>;
}

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/** A check that hangs (a blocked connection, a dead host) counts as failed after this long. */
export const CHECK_TIMEOUT_MS = 2000;

export async function readiness(checks: readonly ReadinessCheck[], timeoutMs = CHECK_TIMEOUT_MS): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async ({ name, check }): Promise<[string, CheckResult]> => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      });
      const problem = await Promise.race([check().catch((e: unknown) => errorMessage(e)), timeout]).finally(() => clearTimeout(timer));
      return [name, problem === null ? { ok: true, ms: Date.now() - started } : { ok: false, ms: Date.now() - started, error: problem }];
    }),
  );
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}

export interface HealthDeps {
  role: string;
  metrics: Metrics;
  checks: readonly ReadinessCheck[];
}

export interface MetricsAccess {
  /** Whether this listener serves /metrics at all (the api's public port does not when METRICS_PORT is set). */
  metrics: boolean;
  /** METRICS_TOKEN: when set, /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * 401 unless the request carries the metrics token. Both sides are hashed
 * first, so the comparison takes the same time whatever the length or the
 * first wrong character.
 */
export function requireMetricsToken(token: string): RequestHandler {
  const expected = digest(`Bearer ${token}`);
  return (req, res, next) => {
    if (timingSafeEqual(digest(req.headers.authorization ?? ""), expected)) return next();
    res
      .status(401)
      .set("WWW-Authenticate", 'Bearer realm="eventline-metrics"')
      .json({ errors: [{ message: "/metrics needs Authorization: Bearer <METRICS_TOKEN>", extensions: { code: "UNAUTHENTICATED" } }] });
  };
}

/**
 * `/health`: the process is alive and serving HTTP (no dependency checked, so
 * an orchestrator does not restart a healthy process during a Redis outage).
 * `/ready`: every dependency answers and the lag is within bounds; 503 with
 * the failing checks named otherwise. `/metrics`: Prometheus text.
 */
export function healthRouter(deps: HealthDeps, access: MetricsAccess = { metrics: true }): Router {
  const router = express.Router();
  const started = Date.now();
  router.get("/health", (_req, res) => {
    res.json({ status: "ok", role: deps.role, uptimeSeconds: Math.round((Date.now() - started) / 1000) });
  });
  router.get("/ready", async (_req, res) => {
    const result = await readiness(deps.checks);
    const failing = Object.entries(result.checks).filter(([, r]) => !r.ok);
    res.status(result.ready ? 200 : 503).json({
      status: result.ready ? "ready" : "not ready",
      role: deps.role,
      ...(failing.length ? { problems: failing.map(([name, r]) => `${name}: ${r.error}`) } : {}),
      checks: result.checks,
    });
  });
  if (!access.metrics) return router;
  const guard: RequestHandler[] = access.metricsToken ? [requireMetricsToken(access.metricsToken)] : [];
  router.get("/metrics", ...guard, async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.render());
  });
  return router;
}

export interface TelemetryServer {
  url: string;
  close(): Promise<void>;
}

/** The same three routes on a port (and address) of their own: for roles without the GraphQL server, and for the api's metrics. */
export async function startTelemetryServer(deps: HealthDeps, host: string, port: number, metricsToken?: string): Promise<TelemetryServer> {
  const app = express();
  app.disable("x-powered-by");
  app.use(healthRouter(deps, { metrics: true, metricsToken }));
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
