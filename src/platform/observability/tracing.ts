import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { GraphQLInstrumentation } from "@opentelemetry/instrumentation-graphql";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { BullMQOtel } from "bullmq-otel";
import type { TracingConfig } from "../../config";
import { setQueueTelemetry } from "./queueTelemetry";

export interface Tracing {
  /** Where spans go: "otlp <endpoint>", "console", "none", or "off". */
  readonly destination: string;
  /** Flushes pending spans; call before the process exits. */
  shutdown(): Promise<void>;
}


/**
 * OpenTelemetry tracing for HTTP, GraphQL, pg, ioredis and BullMQ, off unless
 * OTEL_ENABLED=true. Must run before those libraries are loaded: the
 * instrumentations patch them as they are required. Spans go to the OTLP
 * endpoint when one is configured, else to stdout as JSON lines: never to a
 * default remote address.
 */
export function startTracing(config: TracingConfig, role: string): Tracing {
  if (config.OTEL_ENABLED !== "true") return { destination: "off", shutdown: async () => undefined };
  const kind = config.OTEL_TRACES_EXPORTER ?? (config.OTEL_EXPORTER_OTLP_ENDPOINT ? "otlp" : "console");
  if (kind === "otlp" && !config.OTEL_EXPORTER_OTLP_ENDPOINT) {
    throw new Error("OTEL_TRACES_EXPORTER=otlp needs OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318)");
  }
  const processors: SpanProcessor[] =
    kind === "otlp"
      ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/$/, "")}/v1/traces` }))]
      : kind === "console"
        ? [new SimpleSpanProcessor(new JsonLinesSpanExporter())]
        : [];
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": `eventline-${role}`, "service.namespace": "eventline" }),
    spanProcessors: processors,
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation(),
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation(),
    ],
  });
  setQueueTelemetry(new BullMQOtel({ tracerName: "bullmq" }));
  return {
    destination: kind === "otlp" ? `otlp ${config.OTEL_EXPORTER_OTLP_ENDPOINT}` : kind,
    shutdown: () => provider.shutdown(),
  };
}

/** One JSON object per finished span on stdout, beside the logs; for local use and tests, needs no collector. */
export class JsonLinesSpanExporter implements SpanExporter {
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    for (const span of spans) {
      const context = span.spanContext();
      const [seconds, nanos] = span.duration;
      process.stdout.write(
        `${JSON.stringify({
          span: span.name,
          kind: span.kind,
          traceId: context.traceId,
          spanId: context.spanId,
          parentSpanId: span.parentSpanContext?.spanId,
          ms: Math.round((seconds * 1e3 + nanos / 1e6) * 100) / 100,
          status: span.status.code,
          attributes: span.attributes,
          service: span.resource.attributes["service.name"],
        })}\n`,
      );
    }
    done({ code: 0 }); // ExportResultCode.SUCCESS
  }

  async shutdown(): Promise<void> {}
}
