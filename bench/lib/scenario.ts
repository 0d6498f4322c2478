import type { Args, Mode } from "./args";
import type { Figure } from "./report";

export interface ScenarioContext {
  args: Args;
  /** single (named alone), suite (no scenario named: smaller sizes) or smoke (tiny). */
  mode: Mode;
  /** Measured repetitions of every case; figures are their medians. */
  runs: number;
  /**
   * How long each path is loaded before its first measured run (`--warmup`
   * seconds). V8 compiles a function to optimised code only after thousands
   * of calls, and a path through api, bus and services is a lot of code: the
   * first 2,000 mutations over HTTP cost twice the CPU of the next (BENCHMARKS.md,
   * "Warm processes"). A server that has run for a minute is warm.
   */
  warmupMs: number;
  emit(figure: Omit<Figure, "scenario">): void;
  progress(line: string): void;
}

export interface Scenario {
  name: string;
  summary: string;
  /** Value flags this scenario reads, with their help text. */
  flags: Record<string, string>;
  run(ctx: ScenarioContext): Promise<void>;
}
