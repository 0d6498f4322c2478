/** Load generators: closed loop (N clients, each waits for its answer) and open loop (a fixed rate). */

export interface ClosedLoopOptions {
  concurrency: number;
  /** Stop after this many operations in total... */
  total?: number;
  /** ...or after this long (whichever the caller gives; `total` wins if both). */
  durationMs?: number;
  /** One operation; `i` counts operations across clients, `client` is 0..concurrency-1. */
  op: (i: number, client: number) => Promise<unknown>;
}

export interface LoadResult {
  ops: number;
  seconds: number;
  /** Per-operation latency in ms, in completion order. */
  latencies: number[];
}

export async function closedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const { concurrency, total, durationMs, op } = options;
  if (total === undefined && durationMs === undefined) throw new Error("closedLoop needs total or durationMs");
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = durationMs === undefined ? Infinity : started + durationMs;
  const more = () => (total !== undefined ? next < total : performance.now() < deadline);
  const client = async (id: number) => {
    while (more()) {
      const i = next++;
      const t0 = performance.now();
      await op(i, id);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, id) => client(id)));
  return { ops: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

export interface OpenLoopOptions {
  /** Operations per second to start, whatever the answers' latency. */
  rate: number;
  durationMs: number;
  /** Started at its scheduled time; not awaited before the next one starts. */
  op: (i: number) => Promise<unknown>;
  /** Stop starting new operations when this many are unanswered (the system cannot keep up). */
  maxInFlight?: number;
}

export interface OpenLoopResult {
  started: number;
  /** Operations started per second, as achieved (lower than asked when the system falls behind). */
  achievedRate: number;
  /** Operations skipped because `maxInFlight` were outstanding. */
  skipped: number;
}

/**
 * Starts operations on a fixed schedule. Timers fire every ~1 ms at best, so
 * each tick starts every operation that has come due since the last one.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, durationMs, op, maxInFlight = Infinity } = options;
  const due = Math.round((rate * durationMs) / 1000);
  const inFlight = new Set<Promise<unknown>>();
  let started = 0;
  let skipped = 0;
  const t0 = performance.now();
  while (started + skipped < due) {
    const shouldHaveStarted = Math.min(due, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (started + skipped < shouldHaveStarted) {
      if (inFlight.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const p: Promise<unknown> = op(started).finally(() => inFlight.delete(p));
      inFlight.add(p);
      started++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(inFlight);
  return { started, achievedRate: started / Math.max(seconds, 1e-9), skipped };
}

/**
 * Load before a measurement (see ScenarioContext.warmupMs): `ms` of closed-loop
 * load, or, with no time given (smoke runs), one operation per client to open
 * the connections.
 */
export function warmUp(concurrency: number, ms: number, op: ClosedLoopOptions["op"]): Promise<LoadResult> {
  return closedLoop(ms > 0 ? { concurrency, durationMs: ms, op } : { concurrency, total: concurrency, op });
}
