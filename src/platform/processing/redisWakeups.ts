import type { RedisClient } from "../core/redis";
import type { WakeTarget, WakeupSource } from "./wakeups";

/** Where an appender tells a processor in another process that the log has grown. */
export function wakeChannel(prefix: string, processor: string): string {
  return `${prefix}:wake:${processor}`;
}

/**
 * The appender's side: after an append, one PUBLISH to each processor that
 * handles one of the appended types, so it reads the log now instead of at
 * its next poll (e.g. the saga starter after an OrderPlaced). A hint only:
 * lost while Redis is away, or while the processor is not subscribed, it
 * costs the processor's poll period.
 */
export class ReactorWakeups {
  private readonly byType = new Map<string, string[]>();
  private readonly readAll: string[];

  constructor(
    private readonly connection: RedisClient,
    private readonly prefix: string,
    reactors: readonly WakeTarget[],
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.readAll = reactors.filter((r) => r.eventTypes === "all").map((r) => r.name);
    for (const { name, eventTypes } of reactors) {
      if (eventTypes === "all") continue;
      for (const type of eventTypes) this.byType.set(type, [...(this.byType.get(type) ?? []), name]);
    }
  }

  /** Fire and forget. */
  wake(eventTypes: readonly string[]): void {
    const names = new Set(this.readAll);
    for (const type of eventTypes) for (const name of this.byType.get(type) ?? []) names.add(name);
    for (const name of names) this.connection.publish(wakeChannel(this.prefix, name), "").catch(this.onError);
  }
}

/** The processor's side: its wake-up channel, on a connection of its own (a subscribed connection runs no other command). */
export class RedisWakeupSource implements WakeupSource {
  private readonly listeners = new Set<() => void>();
  private subscribed: Promise<unknown> | null = null;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    subscriber.on("message", (channel: string) => {
      if (channel === this.channel) for (const listener of this.listeners) listener();
    });
  }

  subscribe(wake: () => void): () => void {
    this.listeners.add(wake);
    // ioredis subscribes again by itself after a reconnect.
    this.subscribed ??= this.subscriber.subscribe(this.channel).catch((error: unknown) => {
      this.subscribed = null;
      this.onError(error);
    });
    return () => this.listeners.delete(wake);
  }

  /** Resolves once the channel is subscribed (tests: a wake-up sent before that is lost, as any hint may be). */
  async ready(): Promise<void> {
    await this.subscribed;
  }
}
