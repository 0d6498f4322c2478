import type { Queue } from "bullmq";

/**
 * BullMQ's own exporter (`Queue.exportPrometheusMetrics`), for several queues
 * in one exposition: each queue's text repeats the HELP and TYPE lines, and
 * Prometheus wants every family once with all its samples together.
 */
export async function queuesPrometheusText(queues: readonly Queue[], labels: Record<string, string> = {}): Promise<string> {
  const texts = await Promise.all(queues.map((q) => q.exportPrometheusMetrics(labels)));
  return mergeFamilies(texts);
}

/** Groups lines by family; BullMQ's families are gauges and counters, whose samples carry the family's own name. */
export function mergeFamilies(texts: readonly string[]): string {
  const families = new Map<string, { header: string[]; samples: string[] }>();
  for (const line of texts.flatMap((t) => t.split("\n"))) {
    const header = /^# (HELP|TYPE) (\S+)/.exec(line);
    const name = header ? header[2]! : /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) continue;
    let family = families.get(name);
    if (!family) families.set(name, (family = { header: [], samples: [] }));
    if (!header) family.samples.push(line);
    else if (!family.header.some((h) => h.startsWith(`# ${header[1]} `))) family.header.push(line);
  }
  return [...families.values()].flatMap((f) => [...f.header, ...f.samples]).join("\n");
}
