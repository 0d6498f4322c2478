import "reflect-metadata";
// First: tracing must patch pg, ioredis and graphql before anything loads them.
import { tracing } from "./platform/observability/tracingBootstrap";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createPubSub } from "@graphql-yoga/subscription";
import { ConfigError, loadConfig } from "./config";
import { ERROR_DOCS_PATH, errorCatalogues, renderErrorDocs } from "./platform/runtime/errorDocs";
import { eventRegistryOf } from "./platform/runtime/eventCatalog";
import { emitEventSchemas } from "./platform/eventstore/eventSchemaFiles";
import { EventStore } from "./platform/eventstore/eventStore";
import { migrate } from "./platform/eventstore/migrations";
import { createPool } from "./platform/eventstore/pool";
import { buildGraphQLSchema, printSortedSchema } from "./platform/graphql/schema";
import { allResolvers, roleNames, startApp, type RunningApp } from "./platform/runtime/app";
import { stopWithin } from "./platform/runtime/stopWithin";
import { compose } from "./platform/runtime/composition";
import { REBUILD_USAGE, rebuildCommand } from "./platform/runtime/rebuildCommand";
import { ensureDevInfra, InfraError, type DevInfra } from "./platform/runtime/devInfra";
import { ENV_USAGE, envLines } from "./platform/runtime/envCommand";
import { redisTarget } from "./platform/runtime/redisTarget";
import { parseClusterNodes } from "./platform/core/redis";
import { createLogger } from "./platform/observability/logger";
import { services } from "./registry";

const USAGE = `usage: eventline <command>
  all              every role in one process (what npm start runs)
  api              GraphQL API: mutations to the services' queues, queries and subscriptions from Redis
  projector        BullMQ workers that project the event log into Redis read models
  saga             runs the orchestrated sagas (checkout)
  ${services.map((s) => s.name.padEnd(16)).join(" ")}
                   one service: takes its commands from its queue, reacts to others' events
  ${REBUILD_USAGE}
  ${ENV_USAGE}
  emit-schema      write the GraphQL SDL to schema/schema.graphql, new event schema versions to schema/events/ and docs/errors.md
  emit-error-docs  write docs/errors.md, the error code reference, from the error catalogues
  clear-snapshots  delete every stored snapshot (they are a cache: loads fold from the log, and new ones are taken)`;

export const SCHEMA_FILE = resolve(__dirname, "../../schema/schema.graphql");
export const EVENT_SCHEMA_DIR = resolve(__dirname, "../../schema/events");
export const ERROR_DOCS_FILE = resolve(__dirname, "../..", ERROR_DOCS_PATH);

const TOUR_QUERY = `# Try: define a product, then read it back once the projector has it.
mutation Define {
  defineProduct(input: { sku: "TEA-001", name: "Sencha tea", priceMinor: 1250, currency: "EUR", initialStock: 40 }) {
    position
  }
}

query Products {
  products(first: 10) { edges { node { sku name priceMinor currency available reserved } } totalCount }
}

subscription Stock {
  stockLevels { sku available reserved eventType }
}
`;

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? "all";
  if (command === "emit-schema") return emitSchema();
  if (command === "emit-error-docs") return emitErrorDocs();
  if (command === "clear-snapshots") return clearSnapshots();
  if (command === "env") return void console.log(envLines(loadConfig()).join("\n"));
  if (command === "rebuild") {
    const config = loadConfig();
    process.exitCode = await rebuildCommand(argv.slice(1), config, compose(services, config.PROJECTION_SEGMENTS).projections);
    return;
  }
  if (!roleNames(services).includes(command)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const role = command;
  const config = loadConfig();
  const log = createLogger(role, config.LOG_LEVEL);
  if (tracing.destination !== "off") log.info(`tracing on: spans to ${tracing.destination}`);

  let infra: DevInfra | null = null;
  if (role === "all") {
    infra = await ensureDevInfra({
      databaseUrl: config.DATABASE_URL,
      // A cluster is never started locally: its first node stands for it (every connection uses REDIS_CLUSTER_NODES).
      redisUrl: config.REDIS_URL ?? clusterStandIn(config.REDIS_CLUSTER_NODES),
      dataDir: config.EVENTLINE_DATA_DIR,
      cwd: process.cwd(),
      osUser: config.EVENTLINE_OS_USER,
      pgPort: config.EVENTLINE_PG_PORT,
      redisPort: config.EVENTLINE_REDIS_PORT,
      log: (line) => log.info(line),
    });
    infra.notes.forEach((note) => log.info(note));
  } else if (!config.DATABASE_URL || !redisTarget(config)) {
    throw new ConfigError(`the '${role}' role needs DATABASE_URL and REDIS_URL or REDIS_CLUSTER_NODES (only 'all' starts local servers by itself)`);
  }

  let app: RunningApp;
  try {
    app = await startApp({
      config: { ...config, DATABASE_URL: infra?.databaseUrl ?? config.DATABASE_URL!, REDIS_URL: infra?.redisUrl ?? config.REDIS_URL ?? clusterStandIn(config.REDIS_CLUSTER_NODES)! },
      services,
      roles: [role],
      log,
      graphiqlQuery: TOUR_QUERY,
    });
  } catch (error) {
    await infra?.stop();
    throw error;
  }
  let stoppingSince = 0;
  const shutdown = async (signal: string) => {
    if (stoppingSince) {
      // Ctrl-C under npm reaches us twice (terminal and npm): only a later, deliberate repeat forces the exit.
      if (Date.now() - stoppingSince < 1000) return;
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info(`${signal}: finishing running work, then stopping`);
    let stoppingInfra = false;
    const outcome = await stopWithin(
      async () => {
        await app.stop();
        if (infra) {
          stoppingInfra = true;
          log.info("stopping local PostgreSQL and Redis");
          await infra.stop();
        }
        await tracing.shutdown().catch(() => undefined);
      },
      config.SHUTDOWN_TIMEOUT_MS,
      () => (stoppingInfra ? "local PostgreSQL and Redis" : app.stopping()),
    );
    if (!outcome.finished) {
      // What is left is durable: queued jobs are taken again, leases lapse, the log is where it was.
      log.error(`stopping took longer than SHUTDOWN_TIMEOUT_MS (${config.SHUTDOWN_TIMEOUT_MS} ms), still waiting on ${outcome.waitingOn ?? "nothing named"}: exiting now`);
      process.exit(1);
    }
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // Only now: whoever reads this line may signal at once, and without the handlers above a SIGTERM kills outright.
  log.info(`ready (${role}); Ctrl-C or SIGTERM stops it gracefully`);
}

async function emitSchema(): Promise<void> {
  const schema = await buildGraphQLSchema(allResolvers(services), createPubSub());
  await writeFile(SCHEMA_FILE, printSortedSchema(schema));
  console.log(`wrote ${SCHEMA_FILE}`);
  await emitErrorDocs();
  const { written, conflicts } = emitEventSchemas(eventRegistryOf(services), EVENT_SCHEMA_DIR);
  for (const file of written) console.log(`wrote ${file}`);
  if (written.length === 0) console.log(`event schemas in ${EVENT_SCHEMA_DIR} are up to date`);
  if (conflicts.length) {
    console.error(conflicts.join("\n"));
    process.exitCode = 1;
  }
}

async function emitErrorDocs(): Promise<void> {
  await writeFile(ERROR_DOCS_FILE, renderErrorDocs(errorCatalogues(services)));
  console.log(`wrote ${ERROR_DOCS_FILE}`);
}

async function clearSnapshots(): Promise<void> {
  const { DATABASE_URL } = loadConfig();
  if (!DATABASE_URL) throw new ConfigError("clear-snapshots needs DATABASE_URL");
  const pool = createPool(DATABASE_URL, { max: 1 });
  try {
    await migrate(pool);
    const cleared = await new EventStore(pool).snapshots.clear();
    console.log(`deleted ${cleared} snapshot${cleared === 1 ? "" : "s"}; loads fold from the log until new ones are taken`);
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof InfraError) {
    console.error(`eventline: ${error.message}`);
  } else {
    console.error("eventline: failed to start:", error);
  }
  process.exit(1);
});

/** `redis://host:port` of a cluster's first start-up node, for what wants one URL (logs, the local-servers check). */
function clusterStandIn(nodes: string | undefined): string | undefined {
  const first = parseClusterNodes(nodes)?.[0];
  return first ? `redis://${first.host}:${first.port}` : undefined;
}
