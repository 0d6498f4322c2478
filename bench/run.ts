import "reflect-metadata";
import { resolve } from "node:path";
import { appendScenario } from "./append";
import { checkoutScenario } from "./checkout";
import { commitScenario } from "./commit";
import { commandScenario } from "./command";
import { fanoutScenario } from "./fanout";
import { graphiqlScenario } from "./graphiql";
import { graphqlMutationScenario } from "./graphqlMutation";
import { hopScenario } from "./hop";
import { Args, UsageError } from "./lib/args";
import { cleanupAll, profileRolesInto } from "./lib/env";
import { progress, Reporter } from "./lib/report";
import type { Scenario } from "./lib/scenario";
import { overloadScenario } from "./overload";
import { projectionLagScenario } from "./projectionLag";
import { queryScenario } from "./query";
import { rebuildScenario } from "./rebuild";
import { roundtripScenario } from "./roundtrip";
import { sagaSweepScenario } from "./sagaSweep";
import { scaleScenario } from "./scale";
import { snapshotScenario } from "./snapshot";
import { wsSlowReaderScenario } from "./wsSlowReader";

/**
 * `npm run bench -- [scenario ...] [--json] [--smoke] [--runs 3] [flags]`
 * With no scenario named, runs them all with smaller sizes (see BENCHMARKS.md).
 */
export const scenarios: readonly Scenario[] = [
  appendScenario,
  commandScenario,
  graphqlMutationScenario,
  roundtripScenario,
  hopScenario,
  projectionLagScenario,
  commitScenario,
  rebuildScenario,
  queryScenario,
  checkoutScenario,
  overloadScenario,
  snapshotScenario,
  graphiqlScenario,
  wsSlowReaderScenario,
  fanoutScenario,
  scaleScenario,
  sagaSweepScenario,
];

const GLOBAL_FLAGS: Record<string, string> = {
  runs: "measured repetitions of every case; figures are medians (default 3; 1 with --smoke)",
  warmup: "seconds of load on each path before it is measured, so that every process runs optimised code (default 10; 5 in the suite; 0 with --smoke)",
};

function usage(): string {
  const lines = [
    "usage: npm run bench -- [scenario ...] [--json] [--smoke] [--runs N] [flags]",
    "",
    "Scenarios (all of them, with smaller sizes, when none is named):",
    ...scenarios.map((s) => `  ${s.name.padEnd(18)} ${s.summary}`),
    "",
    "Flags:",
    "  --json             one JSON object per line: {scenario, value, unit, baseline, ratio, params}",
    "  --smoke            tiny sizes, one run: checks that every scenario still works",
    "  --profile          role processes (api, projector, ...) write CPU profiles into ./profiles",
    "  --projector        (roundtrip) a projector process runs too, and its Redis work is counted",
    ...Object.entries(GLOBAL_FLAGS).map(([f, help]) => `  ${`--${f}`.padEnd(18)} ${help}`),
    ...scenarios.flatMap((s) => Object.entries(s.flags).map(([f, help]) => `  ${`--${f}`.padEnd(18)} (${s.name}) ${help}`)),
  ];
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const args = new Args(argv);
  if (args.has("help")) {
    console.log(usage());
    return 0;
  }
  const unknown = args.positional.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length) throw new UsageError(`unknown scenario '${unknown[0]}'; expected one of ${scenarios.map((s) => s.name).join(", ")}`);
  const suite = args.positional.length === 0;
  const chosen = suite ? scenarios : scenarios.filter((s) => args.positional.includes(s.name));
  const known = new Set([...Object.keys(GLOBAL_FLAGS), ...chosen.flatMap((s) => Object.keys(s.flags))]);
  const stray = args.valueFlags().find((f) => !known.has(f));
  if (stray) throw new UsageError(`--${stray} is not a flag of ${chosen.map((s) => s.name).join(", ")}; run with --help for the list`);

  if (args.has("profile")) {
    const dir = resolve("profiles");
    profileRolesInto(dir);
    progress("bench", `role processes write CPU profiles into ${dir} (profile this process itself with node --cpu-prof)`);
  }
  const mode = args.mode(suite);
  const runs = args.int("runs", { single: 3, smoke: 1 }, mode);
  const warmupMs = args.int("warmup", { single: 10, suite: 5, smoke: 0 }, mode, 0) * 1000;
  const reporter = new Reporter(args.json);
  for (const scenario of chosen) {
    const started = performance.now();
    progress(scenario.name, `starting (${mode === "single" ? "" : `${mode} sizes, `}${runs} run${runs > 1 ? "s" : ""} per case)`);
    await scenario.run({
      args,
      mode,
      runs,
      warmupMs,
      emit: (figure) => reporter.emit({ scenario: scenario.name, ...figure }),
      progress: (line) => progress(scenario.name, line),
    });
    progress(scenario.name, `done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return 0;
}

if (require.main === module) {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: removing the benchmark's databases and keys...\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  main(process.argv.slice(2))
    .then((code) => {
      process.exitCode = code;
    })
    .catch(async (error: unknown) => {
      await cleanupAll();
      if (error instanceof UsageError) {
        console.error(`bench: ${error.message}`);
        process.exitCode = 2;
      } else {
        console.error("bench failed:", error instanceof Error ? (error.stack ?? error.message) : error);
        process.exitCode = 1;
      }
      // A role that failed to start leaves startSystem's connections open; do not hang on them.
      process.exit();
    });
}
