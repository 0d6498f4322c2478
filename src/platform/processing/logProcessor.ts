import { errorMessage } from "../core/errors";
import type { WakeupSource } from "./wakeups";
import type { ProcessorLog, ProcessorStep, StepResult } from "./types";

export interface DriveOptions {
  /** Pause between polls once caught up (a wake-up ends it early). */
  idleMs: number;
  /** Pause before retrying a step that failed. */
  retryMs: number;
  /**
   * With a wake-up source, the pause between polls once nothing has happened (no wake-up, no event of
   * its types handled) for `settleMs`. Appends wake the processor, so its polls are there for what a
   * wake-up cannot do: find an append that the woken read found hidden behind an older open
   * transaction (the `idleMs` polls of the `settleMs` after a wake-up), and cover a lost wake-up (these).
   */
  quietMs: number;
  /** See `quietMs`. */
  settleMs: number;
}

export const defaultDriveOptions: DriveOptions = { idleMs: 50, retryMs: 500, quietMs: 1000, settleMs: 1000 };

/** What the driver tells the outside (status, metrics, logs), the same for every processor. */
export interface ProcessorObserver {
  applied?(name: string, result: Extract<StepResult, { kind: "applied" }>): void | Promise<void>;
  failed?(name: string, error: unknown): void | Promise<void>;
  /** A batch read and thrown away because another runner moved the checkpoint first (with leases: never). */
  superseded?(name: string): void;
}

/**
 * Runs steps until the log is drained, the budget is spent or `stopping`
 * says so. Shared by the continuous loop below and by wake-up jobs that
 * drain a slice at a time (the projector's BullMQ jobs).
 */
export async function drainSteps(
  step: ProcessorStep,
  { budgetMs, stopping, observer }: { budgetMs: number; stopping: () => boolean; observer?: ProcessorObserver },
): Promise<{ applied: number; handled: number; drained: boolean }> {
  const started = Date.now();
  let applied = 0;
  let handled = 0;
  try {
    while (!stopping()) {
      const result = await step.step();
      // Not this replica's unit (any more, when fenced): nothing to drain here, its owner does.
      if (result.kind === "idle" || result.kind === "standby") return { applied, handled, drained: true };
      if (result.kind === "superseded") {
        if (result.fenced) return { applied, handled, drained: true };
        observer?.superseded?.(step.name);
      }
      if (result.kind === "applied") {
        applied += result.events;
        handled += result.handled;
        await observer?.applied?.(step.name, result);
        if (result.atHead) return { applied, handled, drained: true };
      }
      if (Date.now() - started > budgetMs) break;
    }
    return { applied, handled, drained: false };
  } catch (error) {
    await Promise.resolve(observer?.failed?.(step.name, error)).catch(() => undefined);
    throw error;
  }
}

/**
 * The one log processor's driver: follows the log with a step from its
 * checkpoint, wakes on its wake-up source or after `idleMs` (`quietMs` once a
 * processor with a wake-up source has settled), and retries a failed step
 * after `retryMs`. It never rejects: a database going away only pauses it,
 * and it resumes from the stored checkpoint.
 */
export class LogProcessor {
  private readonly options: DriveOptions;
  private running: Promise<void> | null = null;
  private stopping = false;
  private nudged = false;
  private wakeUp: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** When it was last woken or handled events of its types (its start counts). */
  private lastActive = Date.now();

  constructor(
    readonly step: ProcessorStep,
    private readonly log: ProcessorLog,
    options: Partial<DriveOptions> = {},
    private readonly wakeups: WakeupSource | null = null,
    private readonly observer: ProcessorObserver = {},
  ) {
    this.options = { ...defaultDriveOptions, ...options };
  }

  get name(): string {
    return this.step.name;
  }

  start(): void {
    this.unsubscribe ??= this.wakeups?.subscribe(() => this.wake()) ?? null;
    this.running ??= this.loop();
  }

  /** Look at the log again now (a hint: a lost one costs at most the poll period, `idleMs` or `quietMs`). */
  wake(): void {
    this.nudged = true;
    this.lastActive = Date.now();
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.wakeUp?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        this.nudged = false;
        const { handled } = await drainSteps(this.step, { budgetMs: Number.POSITIVE_INFINITY, stopping: () => this.stopping, observer: this.observer });
        // Events of other processors' types say nothing of this one's: a reactor of rare types stays quiet under load.
        if (handled > 0) this.lastActive = Date.now();
        if (!this.nudged) await this.pause(this.pollPauseMs());
      } catch (error) {
        this.log.warn({ processor: this.name, err: errorMessage(error) }, `processor ${this.name}: ${errorMessage(error)}; retrying`);
        await this.pause(this.options.retryMs);
      }
    }
  }

  /** Without a wake-up source the poll is the only way to hear of appends, so it never slows down. */
  private pollPauseMs(): number {
    const settled = this.wakeups !== null && Date.now() - this.lastActive >= this.options.settleMs;
    return settled ? this.options.quietMs : this.options.idleMs;
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
