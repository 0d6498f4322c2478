import "reflect-metadata";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createPubSub } from "@graphql-yoga/subscription";
import { ConfigError, loadConfig } from "./config";
import { buildGraphQLSchema, printSortedSchema } from "./platform/graphql/schema";
import { allProjections, allResolvers, roleNames, startApp, type RunningApp } from "./platform/runtime/app";
import { REBUILD_USAGE, rebuildCommand } from "./platform/runtime/rebuildCommand";
import { ensureDevInfra, InfraError, type DevInfra } from "./platform/runtime/devInfra";
import { createLog } from "./platform/runtime/log";
import { services } from "./registry";

const USAGE = `usage: eventline <command>
  all              every role in one process (what npm start runs)
  api              GraphQL API: mutations to the services' queues, queries and subscriptions from Redis
  projector        BullMQ workers that project the event log into Redis read models
  saga             runs the orchestrated sagas (checkout)
  ${services.map((s) => s.name.padEnd(16)).join(" ")}
                   one service: takes its commands from its queue, reacts to others' events
  ${REBUILD_USAGE}
  emit-schema      write the GraphQL SDL to schema/schema.graphql`;

export const SCHEMA_FILE = resolve(__dirname, "../../schema/schema.graphql");

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
  if (command === "rebuild") {
    process.exitCode = await rebuildCommand(argv.slice(1), loadConfig(), allProjections(services));
    return;
  }
  if (!roleNames(services).includes(command)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const role = command;
  const log = createLog(role);
  const config = loadConfig();

  let infra: DevInfra | null = null;
  if (role === "all") {
    infra = await ensureDevInfra({
      databaseUrl: config.DATABASE_URL,
      redisUrl: config.REDIS_URL,
      dataDir: resolve(config.EVENTLINE_DATA_DIR),
      log,
    });
    infra.notes.forEach((note) => log(note));
  } else if (!config.DATABASE_URL || !config.REDIS_URL) {
    throw new ConfigError(`the '${role}' role needs DATABASE_URL and REDIS_URL (only 'all' starts local servers by itself)`);
  }

  let app: RunningApp;
  try {
    app = await startApp({
      config: { ...config, DATABASE_URL: infra?.databaseUrl ?? config.DATABASE_URL!, REDIS_URL: infra?.redisUrl ?? config.REDIS_URL! },
      services,
      roles: [role],
      log,
      graphiqlQuery: TOUR_QUERY,
    });
  } catch (error) {
    await infra?.stop();
    throw error;
  }
  log(`ready (${role}); Ctrl-C or SIGTERM stops it gracefully`);

  let stoppingSince = 0;
  const shutdown = async (signal: string) => {
    if (stoppingSince) {
      // Ctrl-C under npm reaches us twice (terminal and npm): only a later, deliberate repeat forces the exit.
      if (Date.now() - stoppingSince < 1000) return;
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    log(`${signal}: finishing running work, then stopping`);
    await app.stop();
    if (infra) {
      log("stopping local PostgreSQL and Redis");
      await infra.stop();
    }
    log("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

async function emitSchema(): Promise<void> {
  const schema = await buildGraphQLSchema(allResolvers(services), createPubSub());
  await writeFile(SCHEMA_FILE, printSortedSchema(schema));
  console.log(`wrote ${SCHEMA_FILE}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof InfraError) {
    console.error(`eventline: ${error.message}`);
  } else {
    console.error("eventline: failed to start:", error);
  }
  process.exit(1);
});
