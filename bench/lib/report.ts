/**
 * One figure of one scenario. `--json` prints each as one line:
 *   {"scenario","value","unit","baseline","ratio","params"}
 * `ratio` is value / baseline, both measured in the same run (null when the
 * scenario has no baseline). For throughputs higher is better; for latencies
 * (unit "ms") lower is. `params` holds the inputs, the statistic (`stat`) for
 * latency rows, and, where the issue sets one, the target and whether it was met.
 */
export type ParamValue = string | number | boolean | null;

export interface BenchResult {
  scenario: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  params: Record<string, ParamValue>;
}

export interface Target {
  /** What the threshold applies to. */
  on: "value" | "ratio";
  op: ">=" | "<";
  threshold: number;
}

export interface Figure {
  scenario: string;
  /** Short description for the table, e.g. "new streams c=8". */
  label: string;
  value: number;
  unit: string;
  baseline?: number | null;
  params?: Record<string, ParamValue>;
  target?: Target;
}

export function toResult(figure: Figure): BenchResult {
  const baseline = figure.baseline ?? null;
  const ratio = baseline ? round(figure.value / baseline, 3) : null;
  const params: Record<string, ParamValue> = { ...figure.params };
  if (figure.target) {
    const { on, op, threshold } = figure.target;
    const measured = on === "ratio" ? ratio : figure.value;
    params.target = `${on} ${op} ${threshold}`;
    params.targetMet = measured === null ? null : op === ">=" ? measured >= threshold : measured < threshold;
  }
  return {
    scenario: figure.scenario,
    value: roundFigure(figure.value),
    unit: figure.unit,
    baseline: baseline === null ? null : roundFigure(baseline),
    ratio,
    params,
  };
}

/** Whole numbers for rates, two decimals below 100 (latencies in ms). */
export function roundFigure(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : round(value, 2);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const COLUMNS = [
  ["scenario", 17],
  ["case", 38],
  ["value", 11],
  ["unit", 17],
  ["baseline", 11],
  ["ratio", 7],
  ["target", 24],
] as const;

/** Prints figures as they come: a table for people, or JSON lines for machines. */
export class Reporter {
  readonly results: BenchResult[] = [];
  private headerPrinted = false;

  constructor(
    private readonly json: boolean,
    private readonly out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  emit(figure: Figure): BenchResult {
    const result = toResult(figure);
    this.results.push(result);
    if (this.json) {
      this.out(JSON.stringify(result));
      return result;
    }
    if (!this.headerPrinted) {
      this.out(COLUMNS.map(([name, width]) => name.padEnd(width)).join(" ").trimEnd());
      this.out(COLUMNS.map(([, width]) => "-".repeat(width)).join(" "));
      this.headerPrinted = true;
    }
    const target =
      result.params.target === undefined
        ? ""
        : `${String(result.params.target)} ${result.params.targetMet === true ? "MET" : result.params.targetMet === false ? "MISSED" : "?"}`;
    const cells = [
      result.scenario,
      figure.label,
      String(result.value),
      result.unit,
      result.baseline === null ? "-" : String(result.baseline),
      result.ratio === null ? "-" : result.ratio.toFixed(2),
      target,
    ];
    this.out(cells.map((cell, i) => cell.padEnd(COLUMNS[i]![1])).join(" ").trimEnd());
    return result;
  }
}

/** Progress for people, on stderr so that `--json` output stays clean. */
export function progress(scenario: string, line: string): void {
  process.stderr.write(`[bench ${scenario}] ${line}\n`);
}
