import { LOG_START } from "../eventstore/logPosition";
import { drainSteps } from "./logProcessor";
import type { ProcessorStep, StepResult } from "./types";

/** A step that answers `results` in turn (then idle), counting its calls. */
function scripted(results: StepResult[]): ProcessorStep & { calls: number } {
  const queue = [...results];
  return {
    name: "tallies",
    calls: 0,
    async step() {
      this.calls += 1;
      return queue.shift() ?? { kind: "idle", checkpoint: LOG_START };
    },
  };
}

/** `events` read, of which the processor's own types are all but `foreign`. */
const applied = (events: number, atHead?: true, foreign = 0): StepResult => ({
  kind: "applied",
  events,
  handled: events - foreign,
  checkpoint: LOG_START,
  parked: [],
  ...(atHead ? { atHead } : {}),
});
const options = { budgetMs: 60_000, stopping: () => false };

describe("drainSteps", () => {
  it("given a step that reached the head, when draining, then it stops there without reading again", async () => {
    const step = scripted([applied(500), applied(3, true)]);
    expect(await drainSteps(step, options)).toEqual({ applied: 503, handled: 503, drained: true });
    expect(step.calls).toBe(2);
  });

  it("given steps that do not say where they stand, when draining, then it reads until a step finds nothing", async () => {
    const step = scripted([applied(500), applied(3)]);
    expect(await drainSteps(step, options)).toEqual({ applied: 503, handled: 503, drained: true });
    expect(step.calls).toBe(3);
  });

  it("given batches partly of other processors' types, when draining, then it counts what it read and what was its own apart", async () => {
    const step = scripted([applied(500, undefined, 480), applied(3, true, 3)]);
    expect(await drainSteps(step, options)).toEqual({ applied: 503, handled: 20, drained: true });
  });
});
