/**
 * A pass run every `everyMs`, one at a time: a tick that finds the last pass
 * still running is skipped, not queued, so a slow pass (Redis or PostgreSQL
 * away) never piles up behind itself. A pass that fails is reported to
 * `onError`, and the next tick tries again. `stop` waits for the pass running.
 */
export class Periodic {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly everyMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts the ticks; `now` also runs a pass at once. */
  start({ now }: { now: boolean }): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    if (now) void this.tick();
  }

  /** Runs a pass unless one is running (or it is stopped); resolves when the pass running ends. */
  tick(): Promise<void> {
    if (this.stopped) return this.running ?? Promise.resolve();
    this.running ??= this.pass()
      .then(
        () => undefined,
        (error: unknown) => this.onError(error),
      )
      .finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
