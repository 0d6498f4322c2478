import { errorMessage } from "../core/errors";
import type { WakeupSource } from "./wakeups";
import type { ProcessorLog, ProcessorStep, StepResult } from "./types";

export interface DriveOptions {
  /** Pause between polls once caught up (a wake-up ends it early). */
  idleMs: number;
  /** Pause before retrying a step that failed. */
  retryMs: number;
}

export const defaultDriveOptions: DriveOptions = { idleMs: 50, retryMs: 500 };

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
): Promise<{ applied: number; drained: boolean }> {
  const started = Date.now();
  let applied = 0;
  try {
    while (!stopping()) {
      const result = await step.step();
      // Not this replica's unit (any more, when fenced): nothing to drain here, its owner does.
      if (result.kind === "idle" || result.kind === "standby") return { applied, drained: true };
      if (result.kind === "superseded") {
        if (result.fenced) return { applied, drained: true };
        observer?.superseded?.(step.name);
      }
      if (result.kind === "applied") {
        applied += result.events;
        await observer?.applied?.(step.name, result);
        if (result.atHead) return { applied, drained: true };
      }
      if (Date.now() - started > budgetMs) break;
    }
    return { applied, drained: false };
  } catch (error) {
    await Promise.resolve(observer?.failed?.(step.name, error)).catch(() => undefined);
    throw error;
  }
}

/**
 * The one log processor's driver: follows the log with a step from its
 * checkpoint, wakes on its wake-up source or after `idleMs`, and retries a
 * failed step after `retryMs`. It never rejects: a database going away only
 * pauses it, and it resumes from the stored checkpoint.
 */
export class LogProcessor {
  private readonly options: DriveOptions;
  private running: Promise<void> | null = null;
  private stopping = false;
  private nudged = false;
  private wakeUp: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;

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

  /** Look at the log again now (a hint: a lost one costs at most `idleMs`). */
  wake(): void {
    this.nudged = true;
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
        await drainSteps(this.step, { budgetMs: Number.POSITIVE_INFINITY, stopping: () => this.stopping, observer: this.observer });
        if (!this.nudged) await this.pause(this.options.idleMs);
      } catch (error) {
        this.log.warn({ processor: this.name, err: errorMessage(error) }, `processor ${this.name}: ${errorMessage(error)}; retrying`);
        await this.pause(this.options.retryMs);
      }
    }
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
