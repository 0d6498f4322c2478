import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Text in the Prometheus exposition format, produced at scrape time by something prom-client does not own (BullMQ). */
export type TextCollector = () => Promise<string>;

/**
 * Every metric family of one process. Roles register only what they run, so
 * a family appears where its numbers are made: commands in the services,
 * projection lag in the projector and the api, saga states in the saga runner.
 * Label values are bounded: command types, error codes and root fields come
 * from the code and the schema, never from a caller's free text.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly texts: TextCollector[] = [];

  readonly commands = new Counter({
    name: "eventline_commands_total",
    help: "Commands handled by this process, by service, command type and outcome (ok, duplicate, unchanged or an error code)",
    labelNames: ["service", "type", "outcome"] as const,
    registers: [this.registry],
  });

  readonly commandSeconds = new Histogram({
    name: "eventline_command_duration_seconds",
    help: "Time to handle a command (load, decide, append), by service, command type and outcome",
    labelNames: ["service", "type", "outcome"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly appends = new Counter({
    name: "eventline_appends_total",
    help: "Successful appends to the event log by this process, by stream category",
    labelNames: ["category"] as const,
    registers: [this.registry],
  });

  readonly appendedEvents = new Counter({
    name: "eventline_events_appended_total",
    help: "Events appended to the log by this process, by stream category",
    labelNames: ["category"] as const,
    registers: [this.registry],
  });

  readonly graphqlOperations = new Counter({
    name: "eventline_graphql_operations_total",
    help: "GraphQL operations answered, by operation type, first root field and outcome (ok or error)",
    labelNames: ["type", "field", "outcome"] as const,
    registers: [this.registry],
  });

  readonly graphqlErrors = new Counter({
    name: "eventline_graphql_errors_total",
    help: "Errors returned in GraphQL responses, by extensions.code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "eventline_process_" });
  }

  /** A gauge whose values are computed at scrape time; a failing probe leaves the family empty rather than failing the scrape. */
  gauge<Label extends string>(
    name: string,
    help: string,
    labelNames: readonly Label[],
    probe: () => Promise<Array<{ labels: Record<Label, string>; value: number }>>,
  ): void {
    new Gauge<Label>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        const samples = await probe().catch(() => []);
        for (const { labels, value } of samples) this.set(labels as never, value);
      },
    });
  }

  addText(collector: TextCollector): void {
    this.texts.push(collector);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole exposition: prom-client's families, then the collected texts. */
  async render(): Promise<string> {
    const own = await this.registry.metrics();
    const extra = await Promise.all(this.texts.map((t) => t().catch(() => "")));
    return [own.trimEnd(), ...extra.map((e) => e.trimEnd()).filter(Boolean)].join("\n") + "\n";
  }
}

/** `product-TEA-1` → `product`, `saga.checkout-o-1` → `saga`: bounded by the code's stream naming. */
export function streamCategory(streamId: string): string {
  return /^[A-Za-z0-9_]{1,40}/.exec(streamId)?.[0] ?? "other";
}

/** A command's `type` field when it has a sensible one. */
export function commandType(command: unknown): string {
  const type = (command as { type?: unknown } | null)?.type;
  return typeof type === "string" && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(type) ? type : "unknown";
}
