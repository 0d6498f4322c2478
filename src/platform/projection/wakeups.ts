import { Queue } from "bullmq";
import { bullPrefix, type RedisClient } from "../core/redis";
import { queueTelemetry } from "../observability/queueTelemetry";
import type { WakeTarget } from "../processing/wakeups";

export const PROJECTOR_QUEUE = "projector";
export const DRAIN_JOB = "drain";

/**
 * "Drain these projections": one job per round of wake-ups, whatever the
 * number of projections the round woke. `projection`: the form earlier
 * versions queued, one job per projection, still read.
 */
export type DrainJobData = { projections: string[] } | { projection: string };

/** The projections a drain job names, whichever form it has. */
export function drainedBy(data: DrainJobData): string[] {
  return "projections" in data ? data.projections : [data.projection];
}

/** The job of one round: deduplicated per set of projections, one more kept while one runs. */
export function drainJob(projections: readonly string[]) {
  const names = [...projections].sort();
  return {
    name: DRAIN_JOB,
    data: { projections: names },
    opts: {
      deduplication: { id: `drain:${names.join(",")}`, keepLastIfActive: true },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  };
}

export type { WakeTarget };

/**
 * Tells projectors that the log has grown. A wake-up carries no data, only
 * "look again": the log is the data. Only the projections that read one of
 * the appended event types are woken; the others would only move their
 * checkpoint, which their next wake-up or the catch-up tick does as well.
 *
 * Coalesced: while one round of wake-ups is being sent, the projections asked
 * for meanwhile are gathered and sent as one more round, and a round is one
 * job for all the projections it woke, which the projector drains together
 * with one log read (processing/sharedLogReads.ts). In Redis, at most one job
 * per set of projections waits, and one more is kept when a drain is already
 * running, so a commit landing during a drain is never missed (BullMQ's
 * keepLastIfActive): a drain reads the log to its head, so one wake-up covers
 * every append before it.
 */
export class ProjectorWakeups {
  private readonly queue: Queue<DrainJobData>;
  private readonly byType = new Map<string, string[]>();
  private readonly readAll: string[];
  private readonly everyName: string[];
  private readonly pending = new Set<string>();
  private inFlight: Promise<void> | null = null;

  constructor(
    connection: RedisClient,
    prefix: string,
    projections: readonly WakeTarget[],
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.queue = new Queue<DrainJobData>(PROJECTOR_QUEUE, { connection, prefix: bullPrefix(prefix, PROJECTOR_QUEUE), ...queueTelemetry() });
    this.everyName = projections.map((p) => p.name);
    this.readAll = projections.filter((p) => p.eventTypes === "all").map((p) => p.name);
    for (const { name, eventTypes } of projections) {
      if (eventTypes === "all") continue;
      for (const type of eventTypes) this.byType.set(type, [...(this.byType.get(type) ?? []), name]);
    }
  }

  /** The projections an append of these event types concerns. */
  targetsOf(eventTypes: readonly string[]): string[] {
    const names = new Set(this.readAll);
    for (const type of eventTypes) for (const name of this.byType.get(type) ?? []) names.add(name);
    return [...names];
  }

  /**
   * Fire and forget; a lost wake-up is covered by the projector's catch-up schedule.
   * Wakes the projections reading one of `eventTypes`, or every projection when not told what was appended.
   */
  wake(eventTypes?: readonly string[]): void {
    for (const name of eventTypes ? this.targetsOf(eventTypes) : this.everyName) this.pending.add(name);
    this.sendPending();
  }

  /** Resolves when every wake-up asked for so far has been sent. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.queue.close();
  }

  private sendPending(): void {
    if (this.inFlight || this.pending.size === 0) return;
    const names = [...this.pending];
    this.pending.clear();
    this.inFlight = this.send(names)
      .catch(this.onError)
      .finally(() => {
        this.inFlight = null;
        this.sendPending();
      });
  }

  private async send(projections: readonly string[]): Promise<void> {
    const { name, data, opts } = drainJob(projections);
    await this.queue.add(name, data, opts);
  }
}
