import type { Args, Mode } from "./args";
import type { Figure } from "./report";

export interface ScenarioContext {
  args: Args;
  /** single (named alone), suite (no scenario named: smaller sizes) or smoke (tiny). */
  mode: Mode;
  /** Measured repetitions of every case; figures are their medians. */
  runs: number;
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
