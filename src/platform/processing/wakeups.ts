/**
 * Where a processor hears that the log has grown. A wake-up is only a hint:
 * it carries no data and may be lost, so every processor also polls (its
 * driver's `idleMs`, or the projector's catch-up tick).
 *
 * Sources: the poll timer alone (no source), a local call (`LocalWakeups`,
 * e.g. after an append in the same process), and BullMQ drain jobs
 * (projection/wakeups.ts), which drain a slice per job instead of waking a loop.
 */
export interface WakeupSource {
  /** Calls `wake` on each hint; returns the unsubscribe function. */
  subscribe(wake: () => void): () => void;
}

/** A log processor as an appender sees it: its name and the event types it reads. */
export interface WakeTarget {
  readonly name: string;
  readonly eventTypes: readonly string[] | "all";
}

/** Wake-ups raised by this process. */
export class LocalWakeups implements WakeupSource {
  private readonly listeners = new Set<() => void>();

  subscribe(wake: () => void): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }

  wake(): void {
    for (const listener of this.listeners) listener();
  }
}
