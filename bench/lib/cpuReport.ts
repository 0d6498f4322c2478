import type { CpuSplit } from "./cpuMeter";
import { roundFigure, type ParamValue } from "./report";
import type { ScenarioContext } from "./scenario";

/**
 * CPU per operation as flat numbers, so that medianOf can take them over runs:
 * `{ [key]: total, [key.part]: ... }`, in `scale` units per operation.
 */
export type CpuScale = "ms" | "µs";

export function cpuPerOp(split: CpuSplit, ops: number, key: string, scale: CpuScale): Record<string, number> {
  const factor = scale === "µs" ? 1000 : 1;
  const per = (ms: number) => (ms * factor) / Math.max(1, ops);
  const out: Record<string, number> = { [key]: per(split.total) };
  for (const [name, ms] of Object.entries(split.parts)) out[`${key}.${name}`] = per(ms);
  return out;
}

export interface CpuRow {
  label: string;
  /** What one operation is, e.g. "checkout", "event". */
  op: string;
  scale: CpuScale;
  figures: Record<string, number>;
  /** Key of the measured path's figures in `figures` (default "cpu"). */
  key?: string;
  /** Key of the baseline path's figures, when the scenario has one. */
  baselineKey?: string;
  params: Record<string, ParamValue>;
}

/**
 * Prints CPU per operation next to a figure, in the same style: the baseline
 * path's CPU per operation as baseline (a ratio above 1 costs more), and each
 * process group's share in params. Left out when /proc gave nothing (off
 * Linux, or a window shorter than a clock tick).
 */
export function emitCpu(ctx: Pick<ScenarioContext, "emit">, row: CpuRow): void {
  const key = row.key ?? "cpu";
  const value = row.figures[key] ?? 0;
  if (!(value > 0)) return;
  const base = row.baselineKey === undefined ? undefined : row.figures[row.baselineKey];
  const parts: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(row.figures)) {
    if (k.startsWith(`${key}.`)) parts[k] = roundFigure(v);
    if (row.baselineKey !== undefined && k.startsWith(`${row.baselineKey}.`)) parts[k] = roundFigure(v);
  }
  ctx.emit({
    label: `${row.label}, CPU`,
    value,
    unit: `${row.scale} CPU/${row.op}`,
    baseline: base !== undefined && base > 0 ? base : null,
    params: { ...row.params, stat: "cpu", ...parts },
  });
}
