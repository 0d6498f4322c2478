import { loadTracingConfig } from "../../config";
import { startTracing, type Tracing } from "./tracing";

/**
 * Imported first by the process entry point, before pg, ioredis, graphql or
 * bullmq are loaded, so that the instrumentations can patch them.
 */
function bootstrap(): Tracing {
  try {
    return startTracing(loadTracingConfig(), process.argv[2] ?? "all");
  } catch (error) {
    console.error(`eventline: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

export const tracing = bootstrap();
