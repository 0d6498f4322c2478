import { Queue } from "bullmq";
import { bullPrefix, type RedisClient } from "../core/redis";
import { queueTelemetry } from "../observability/queueTelemetry";

export const PROJECTOR_QUEUE = "projector";
export const DRAIN_JOB = "drain";

export interface DrainJobData {
  projection: string;
}

/**
 * Tells projectors that the log has grown. A wake-up carries no data, only
 * "look again": the log is the data. At most one job per projection waits,
 * and one more is kept when a drain is already running, so a commit landing
 * during a drain is never missed (BullMQ's keepLastIfActive). Calls are
 * coalesced: many appends in a burst cost one round of wake-ups.
 */
export class ProjectorWakeups {
  private readonly queue: Queue<DrainJobData>;
  private inFlight: Promise<void> | null = null;
  private pending = false;

  constructor(
    connection: RedisClient,
    prefix: string,
    private readonly projections: readonly string[],
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.queue = new Queue<DrainJobData>(PROJECTOR_QUEUE, { connection, prefix: bullPrefix(prefix, PROJECTOR_QUEUE), ...queueTelemetry() });
  }

  /** Fire and forget; a lost wake-up is covered by the projector's catch-up schedule. */
  wake(): void {
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    this.inFlight = this.send()
      .catch(this.onError)
      .finally(() => {
        this.inFlight = null;
        if (this.pending) {
          this.pending = false;
          this.wake();
        }
      });
  }

  /** Resolves when every wake-up asked for so far has been sent. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.queue.close();
  }

  private async send(): Promise<void> {
    await this.queue.addBulk(
      this.projections.map((projection) => ({
        name: DRAIN_JOB,
        data: { projection },
        opts: {
          deduplication: { id: `drain:${projection}`, keepLastIfActive: true },
          removeOnComplete: true,
          removeOnFail: 1000,
        },
      })),
    );
  }
}
