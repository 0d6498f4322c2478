/**
 * Command line of `npm run bench`: scenario names, then flags.
 *
 *   npm run bench -- [scenario ...] [--json] [--smoke] [--runs 3] [--<scenario flag> value ...]
 *
 * Every numeric flag has three defaults: one when its scenario is named
 * alone, a smaller one when the whole suite runs (no scenario named), and a
 * tiny one for `--smoke` (the test that keeps the benchmarks from rotting).
 */
export type Mode = "single" | "suite" | "smoke";

export interface Defaults<T> {
  /** The scenario was named on the command line. */
  single: T;
  /** The whole suite runs; defaults to `single`. */
  suite?: T;
  smoke: T;
}

export class UsageError extends Error {}

const BOOLEAN_FLAGS = new Set(["json", "smoke", "help", "profile", "projector", "round-trips"]);

export class Args {
  readonly positional: string[] = [];
  private readonly flags = new Map<string, string>();
  private readonly booleans = new Set<string>();

  constructor(argv: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const token = argv[i]!;
      if (!token.startsWith("--")) {
        this.positional.push(token);
        continue;
      }
      const [rawName, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (BOOLEAN_FLAGS.has(rawName)) {
        if (inline !== undefined) throw new UsageError(`--${rawName} takes no value (got '${inline}')`);
        this.booleans.add(rawName);
        continue;
      }
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--")) {
        throw new UsageError(`--${rawName} needs a value, e.g. --${rawName} 8`);
      }
      this.flags.set(rawName, value);
    }
  }

  get json(): boolean {
    return this.booleans.has("json");
  }

  get smoke(): boolean {
    return this.booleans.has("smoke");
  }

  has(name: string): boolean {
    return this.booleans.has(name) || this.flags.has(name);
  }

  /** Names of the value flags given, for checking them against what the chosen scenarios accept. */
  valueFlags(): string[] {
    return [...this.flags.keys()];
  }

  mode(suite: boolean): Mode {
    return this.smoke ? "smoke" : suite ? "suite" : "single";
  }

  int(name: string, defaults: Defaults<number>, mode: Mode, min = 1): number {
    const raw = this.flags.get(name);
    if (raw === undefined) return pick(defaults, mode);
    const value = Number(raw.replace(/_/g, ""));
    if (!Number.isInteger(value) || value < min) {
      throw new UsageError(`--${name}: got '${raw}', expected an integer >= ${min}`);
    }
    return value;
  }

  intList(name: string, defaults: Defaults<number[]>, mode: Mode, min = 1): number[] {
    const raw = this.flags.get(name);
    if (raw === undefined) return pick(defaults, mode);
    const values = raw.split(",").map((part) => Number(part.trim().replace(/_/g, "")));
    if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min)) {
      throw new UsageError(`--${name}: got '${raw}', expected integers >= ${min} separated by commas, e.g. 1,8,32`);
    }
    return values;
  }

  choiceList<T extends string>(name: string, choices: readonly T[], defaults: Defaults<T[]>, mode: Mode): T[] {
    const raw = this.flags.get(name);
    if (raw === undefined) return pick(defaults, mode);
    const values = raw.split(",").map((part) => part.trim());
    const bad = values.find((v) => !(choices as readonly string[]).includes(v));
    if (bad !== undefined) throw new UsageError(`--${name}: got '${bad}', expected one or more of ${choices.join(", ")}`);
    return values as T[];
  }
}

function pick<T>(defaults: Defaults<T>, mode: Mode): T {
  return mode === "smoke" ? defaults.smoke : mode === "suite" ? (defaults.suite ?? defaults.single) : defaults.single;
}
