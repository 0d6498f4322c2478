import type { RedisClient } from "../core/redis";
import { onMessage, subscribe } from "../core/redisPubSub";
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
  /** Per projection's checkpoint channel: its SUBSCRIBE (each projection publishes under its own hash tag). */
  private readonly ready = new Map<string, Promise<void>>();

  constructor(
    private readonly subscriber: RedisClient,
    private readonly keys: ReadModelKeys,
    private readonly readModels: ReadModelStore,
  ) {
    onMessage(subscriber, (channel, message) => {
      if (this.ready.has(channel)) this.onCheckpoint(message);
    });
  }

  async waitFor(projection: string, position: LogPosition, timeoutMs: number): Promise<void> {
    const channel = this.keys.checkpointChannel(projection);
    let ready = this.ready.get(channel);
    if (!ready) {
      ready = subscribe(this.subscriber, channel);
      this.ready.set(channel, ready);
      ready.catch(() => this.ready.delete(channel)); // the next wait tries again
    }
    await ready;
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
