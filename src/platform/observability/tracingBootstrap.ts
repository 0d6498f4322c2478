import { loadTracingConfig } from "../../config";
import type { Tracing } from "./tracing";

const OFF: Tracing = { destination: "off", shutdown: async () => undefined };

/**
 * Imported first by the process entry point, before pg, ioredis, graphql or
 * bullmq are loaded, so that the instrumentations can patch them. It must
 * run synchronously, and the SDK is loaded only when tracing is on: it costs
 * most of a second of start-up.
 */
function bootstrap(): Tracing {
  try {
    const config = loadTracingConfig();
    if (config.OTEL_ENABLED !== "true") return OFF;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startTracing } = require("./tracing") as typeof import("./tracing");
    return startTracing(config, process.argv[2] ?? "all");
  } catch (error) {
    console.error(`eventline: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

export const tracing = bootstrap();
