import { LOG_START } from "../eventstore/logPosition";
import { silentLogger } from "../observability/logger";
import { LogProcessor } from "./logProcessor";
import type { ProcessorStep, StepResult } from "./types";
import { LocalWakeups } from "./wakeups";

/**
 * How often a caught-up processor polls: every `idleMs` while it is active
 * or has no wake-up source; every `quietMs` once a processor that is woken by
 * appends has heard nothing for `settleMs`. Fake timers (Date included), so
 * the counts are the schedule's, not the machine's.
 */
const pacing = { idleMs: 50, quietMs: 1000, settleMs: 1000, retryMs: 500 };

/**
 * A caught-up log: every step finds nothing, unless `events` is set for the next one. `foreign` of
 * those are of types the processor does not handle (read and passed over).
 */
function countingStep(): ProcessorStep & { calls: number; events: number; foreign: number } {
  return {
    name: "paced",
    calls: 0,
    events: 0,
    foreign: 0,
    async step(): Promise<StepResult> {
      this.calls += 1;
      const { events, foreign } = this;
      this.events = 0;
      this.foreign = 0;
      const handled = events - foreign;
      return events > 0 ? { kind: "applied", events, handled, checkpoint: LOG_START, parked: [], atHead: true } : { kind: "idle", checkpoint: LOG_START };
    },
  };
}

/** Steps taken while `ms` of fake time pass. */
async function stepsDuring(step: { calls: number }, ms: number): Promise<number> {
  const before = step.calls;
  await jest.advanceTimersByTimeAsync(ms);
  return step.calls - before;
}

let processor: LogProcessor | null = null;

beforeEach(() => jest.useFakeTimers());

afterEach(async () => {
  const stopping = processor?.stop();
  await jest.advanceTimersByTimeAsync(pacing.quietMs);
  await stopping;
  processor = null;
  jest.useRealTimers();
});

describe("a processor with a wake-up source", () => {
  it("given nothing happens, when a second has passed since its start, then it polls every quietMs instead of every idleMs", async () => {
    const step = countingStep();
    processor = new LogProcessor(step, silentLogger(), pacing, new LocalWakeups());
    processor.start();
    expect(await stepsDuring(step, 1000)).toBeGreaterThanOrEqual(19); // the first second: every 50 ms
    const quiet = await stepsDuring(step, 5000);
    expect(quiet).toBeGreaterThanOrEqual(4);
    expect(quiet).toBeLessThanOrEqual(6);
  });

  it("given it has settled, when it is woken, then it reads at once and polls every idleMs for settleMs after", async () => {
    const step = countingStep();
    const wakeups = new LocalWakeups();
    processor = new LogProcessor(step, silentLogger(), pacing, wakeups);
    processor.start();
    await stepsDuring(step, 3000);
    const before = step.calls;
    wakeups.wake();
    await jest.advanceTimersByTimeAsync(0);
    expect(step.calls).toBe(before + 1);
    // A woken read may have found the append hidden behind an older open transaction: the fast polls find it.
    expect(await stepsDuring(step, 1000)).toBeGreaterThanOrEqual(18);
    expect(await stepsDuring(step, 3000)).toBeLessThanOrEqual(4);
  });

  it("given events keep arriving, when each poll applies some, then it keeps polling every idleMs", async () => {
    const step = countingStep();
    processor = new LogProcessor(step, silentLogger(), pacing, new LocalWakeups());
    processor.start();
    const feeding = setInterval(() => (step.events = 1), 40); // appended without a wake-up (one was lost)
    try {
      await stepsDuring(step, 1000);
      expect(await stepsDuring(step, 3000)).toBeGreaterThanOrEqual(55);
    } finally {
      clearInterval(feeding);
    }
  });

  it("given the log grows with other processors' types only, when each poll passes them over, then it settles as if nothing happened", async () => {
    const step = countingStep();
    processor = new LogProcessor(step, silentLogger(), pacing, new LocalWakeups());
    processor.start();
    // A reactor of rare types (e.g. OrderCancelled) under a load of checkouts: each read finds events, none its own.
    const feeding = setInterval(() => {
      step.events = 3;
      step.foreign = 3;
    }, 40);
    try {
      await stepsDuring(step, 1000);
      expect(await stepsDuring(step, 3000)).toBeLessThanOrEqual(4);
    } finally {
      clearInterval(feeding);
    }
  });
});

describe("a processor without a wake-up source", () => {
  it("given nothing happens, when seconds pass, then it keeps polling every idleMs: its polls are all it hears", async () => {
    const step = countingStep();
    processor = new LogProcessor(step, silentLogger(), pacing);
    processor.start();
    await stepsDuring(step, 1000);
    expect(await stepsDuring(step, 3000)).toBeGreaterThanOrEqual(58);
  });
});
