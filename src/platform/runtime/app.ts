import { eventRegistryOf } from "./eventCatalog";
import { errorMessage } from "../core/errors";
import type { EventStore } from "../eventstore/eventStore";
import type { RunningServer } from "../graphql/server";
import { startTelemetryServer } from "../observability/health";
import type { Logger } from "../observability/logger";
import type { ServiceDefinition } from "./service";
import { compose } from "./composition";
import { openInfrastructure } from "./infrastructure";
import type { AppConfig } from "./rolePart";

export { allProjections, allResolvers, PLATFORM_ROLES, processRoles, roleNames } from "./composition";

export interface AppOptions {
  config: AppConfig;
  services: readonly ServiceDefinition[];
  roles: readonly string[];
  /** The process's logger; each component logs through a child of it. */
  log: Logger;
  graphiqlQuery?: string;
}

export interface RunningApp {
  api: RunningServer | null;
  /** Where /health, /ready and /metrics are served: METRICS_PORT, else the api's port, or nowhere. */
  telemetryUrl: string | null;
  store: EventStore;
  stop(): Promise<void>;
  /** The part `stop` is waiting on now (null when not stopping): what a stop that overruns its bound names. */
  stopping(): string | null;
}

/**
 * The composition root: connects to PostgreSQL and Redis, applies migrations
 * and starts the requested roles of whatever is registered (composition.ts).
 * Every role can run alone in its own process or together with the others in
 * one; they only talk through PostgreSQL, Redis and BullMQ queues.
 */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const { config, services, log } = options;
  const { parts, projections, reactors } = compose(services, config.PROJECTION_SEGMENTS);
  const wanted = options.roles.includes("all") ? parts : parts.filter((p) => options.roles.includes(p.role));
  const stops: Array<{ name: string; run: () => Promise<unknown> }> = [];
  const onStop = (name: string, run: () => Promise<unknown>) => stops.push({ name, run });
  let stopping: string | null = null;
  const stop = async () => {
    for (const { name, run } of stops.splice(0).reverse()) {
      stopping = name;
      await run().catch((e: unknown) => log.warn({ component: name }, `shutdown of ${name}: ${errorMessage(e)}`));
    }
    stopping = null;
  };

  try {
    const role = options.roles.join("+");
    const ctx = await openInfrastructure({
      config,
      log,
      role,
      graphiqlQuery: options.graphiqlQuery ?? "",
      registry: eventRegistryOf(services),
      projections: projections.map(({ name, eventTypes }) => ({ name, eventTypes })),
      reactors,
      onStop,
    });
    let api: RunningServer | null = null;
    for (const part of wanted) {
      // What a role reports comes from its registration, before it starts: the api hands the board its queues.
      // Every role that runs something gets the queues and lag readiness checks, even with nothing of its own to list.
      ctx.telemetry.watchQueues(part.queues);
      ctx.telemetry.watchProjections(part.projections);
      ctx.telemetry.watchSubscriptions(part.subscriptions.map((s) => s.name));
      api = (await part.start(ctx)) ?? api;
    }
    let telemetryUrl = api ? api.url.replace(/\/graphql$/, "") : null;
    if (config.METRICS_PORT !== undefined) {
      const server = await startTelemetryServer({ role, metrics: ctx.metrics, checks: ctx.telemetry.checks }, config.METRICS_HOST ?? config.HOST, config.METRICS_PORT, config.METRICS_TOKEN);
      onStop("telemetry server", () => server.close());
      telemetryUrl = server.url;
    }
    if (telemetryUrl) log.info({ url: telemetryUrl }, `telemetry at ${telemetryUrl}/metrics (also /health, /ready)`);

    return { api, telemetryUrl, store: ctx.store, stop, stopping: () => stopping };
  } catch (error) {
    await stop();
    throw error;
  }
}
