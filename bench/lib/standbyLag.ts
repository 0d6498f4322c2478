import type { Pool } from "pg";
import { EventStore } from "../../src/platform/eventstore/eventStore";
import { formatLogPosition, LOG_START, type LogPosition } from "../../src/platform/eventstore/logPosition";
import { benchMetadata } from "./inventoryEvents";
import { openLoop } from "./load";
import { summarize, type LatencySummary } from "./stats";

/**
 * How long after its append commits on the primary a log reader sees an
 * event: appends at a steady `rate` on the primary while a reader follows the
 * log with `readAll` (the projectors' own query) through `reader`, as fast as
 * it can. Run with the primary as reader, it is the baseline: the snapshot
 * horizon's own delay, without replication.
 */
export async function readerLag(primary: Pool, reader: Pool, options: { rate: number; durationMs: number }): Promise<LatencySummary & { events: number }> {
  const writer = new EventStore(primary);
  const follower = new EventStore(primary, { reader });
  const committedAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let from: LogPosition = (await follower.readAll(LOG_START, 1_000_000)).checkpoint;
  let writing = true;
  let stopped = false;
  const follow = (async () => {
    while (!stopped && (writing || seenAt.size < committedAt.size)) {
      const page = await follower.readAll(from, 1000);
      const now = performance.now();
      for (const event of page.events) seenAt.set(formatLogPosition(event.position), now);
      from = page.checkpoint;
      if (page.events.length === 0) await new Promise((r) => setTimeout(r, 1));
    }
  })();
  let n = 0;
  await openLoop({
    rate: options.rate,
    durationMs: options.durationMs,
    maxInFlight: 200,
    op: async () => {
      const i = n++;
      const result = await writer.append(`bench.lag-${i % 50}`, "any", [{ type: "BenchTick", data: { i }, metadata: benchMetadata(`lag-${i}`) }]);
      committedAt.set(formatLogPosition(result.position), performance.now());
    },
  });
  writing = false;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([follow, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
  clearTimeout(timer);
  stopped = true;
  await follow;
  const lags = [...committedAt].map(([position, at]) => Math.max(0, (seenAt.get(position) ?? Number.NaN) - at));
  if (lags.some((lag) => Number.isNaN(lag))) throw new Error(`the reader never saw ${lags.filter((l) => Number.isNaN(l)).length} of ${lags.length} events`);
  return { ...summarize(lags), events: lags.length };
}
