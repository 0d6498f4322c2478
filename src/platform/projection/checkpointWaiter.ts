import type { Redis } from "ioredis";
import { DomainError, ErrorCode } from "../core/errors";
import { compareLogPositions, formatLogPosition, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { ReadModelKeys } from "./keys";
import type { ReadModelStore } from "./readModelStore";

interface Waiter {
  projection: string;
  position: LogPosition;
  resolve: () => void;
}

/**
 * Read-your-writes without polling: a query that names the position its
 * mutation produced waits until the projection's checkpoint has passed it.
 * Projectors publish every checkpoint they commit; one subscription per
 * process fans the news out to all waiting queries.
 */
export class CheckpointWaiter {
  private readonly waiters = new Set<Waiter>();
  private ready: Promise<unknown> | null = null;

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: ReadModelKeys,
    private readonly readModels: ReadModelStore,
  ) {
    subscriber.on("message", (channel: string, message: string) => {
      if (channel === keys.checkpointChannel) this.onCheckpoint(message);
    });
  }

  /** Waits for every segment of a projection in segments: the one a later read goes to is any of them. */
  async waitFor(projection: string, position: LogPosition, timeoutMs: number): Promise<void> {
    const segments = this.readModels.segments.names(projection);
    if (segments.length > 1) {
      await Promise.all(segments.map((segment) => this.waitForSegment(segment, position, timeoutMs)));
      return;
    }
    await this.waitForSegment(projection, position, timeoutMs);
  }

  private async waitForSegment(projection: string, position: LogPosition, timeoutMs: number): Promise<void> {
    this.ready ??= this.subscriber.subscribe(this.keys.checkpointChannel);
    await this.ready;
    let waiter: Waiter | undefined;
    const reached = new Promise<void>((resolve) => {
      waiter = { projection, position, resolve };
      this.waiters.add(waiter);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      // Registered before this read, so a checkpoint published in between is not missed.
      if (compareLogPositions(await this.readModels.checkpoint(projection), position) >= 0) return;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      if ((await Promise.race([reached, timedOut])) === "timeout") {
        throw new DomainError(
          ErrorCode.CONSISTENCY_TIMEOUT,
          `Read model '${projection}' did not reach position ${formatLogPosition(position)} within ${timeoutMs} ms`,
          { projection, position: formatLogPosition(position), timeoutMs },
        );
      }
    } finally {
      clearTimeout(timer);
      if (waiter) this.waiters.delete(waiter);
    }
  }

  private onCheckpoint(message: string): void {
    const [projection, , token] = message.split(" ");
    const checkpoint = token ? parseLogPosition(token) : null;
    if (!projection || !checkpoint) return;
    for (const waiter of this.waiters) {
      if (waiter.projection === projection && compareLogPositions(checkpoint, waiter.position) >= 0) {
        waiter.resolve();
        this.waiters.delete(waiter);
      }
    }
  }
}
