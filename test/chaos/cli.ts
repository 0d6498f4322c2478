import "reflect-metadata"; // the read-model checks load the services, whose GraphQL classes need it first
import { formatReport, runChaos } from "./engine";
import { ALL_FAULT_KINDS, faultKindsFor, type Topology } from "./faults";

/**
 * `npm run chaos` — the full fault-injection run (2,000 checkouts, 50 faults
 * by default). `--seed N` replays a schedule; `--checkouts`, `--faults`,
 * `--concurrency`, `--json` as named; `--only a,b` or `--skip a,b` narrow
 * the fault kinds (e.g. `--only redis-wipe`); `--kill-only` is every `kill:`
 * kind and nothing else, the availability measurement (with
 * `--deadline-ms 30000`, the checkout's own deadline).
 */
const USAGE = `npm run chaos -- [options]
  --seed N                replay a schedule (default: random)
  --checkouts N           checkouts placed (default 2000)
  --faults N              faults injected (default 50)
  --concurrency N         clients placing orders at once (default 8)
  --deadline-ms N         saga deadline (default 6000; the checkout's own is 30000)
  --converge-timeout-ms N longest wait for the system to settle (default 180000)
  --only a,b | --skip a,b fault kinds to draw from or leave out: ${ALL_FAULT_KINDS.join(", ")}
  --await-outcome         each client waits for its order's final status before the next (closed loop)
  --kill-only             only SIGKILLs of roles (${ALL_FAULT_KINDS.filter((k) => k.startsWith("kill:")).join(",")})
  --cluster               two of every role on a Redis Cluster (3 masters, 3 replicas) and a PostgreSQL hot standby,
                          adding: ${faultKindsFor("cluster").filter((k) => !faultKindsFor("single").includes(k)).join(", ")}
  --replicated            two of every role on a hot standby, with one Redis (the cluster's faults less the Redis ones)
  --json                  the report as JSON`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const flag = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const seed = flag("seed", Math.floor(Math.random() * 2 ** 31));
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1]!.split(",") : null;
  const skip = args.includes("--skip") ? args[args.indexOf("--skip") + 1]!.split(",") : [];
  const killOnly = args.includes("--kill-only");
  const topology: Topology = args.includes("--cluster") ? "cluster" : args.includes("--replicated") ? "replicated" : "single";
  const kinds = faultKindsFor(topology).filter((k) => (!only || only.includes(k)) && !skip.includes(k) && (!killOnly || k.startsWith("kill:")));
  const report = await runChaos({
    seed,
    checkouts: flag("checkouts", 2000),
    faults: flag("faults", 50),
    concurrency: flag("concurrency", 8),
    deadlineMs: flag("deadline-ms", 6000),
    convergeTimeoutMs: flag("converge-timeout-ms", 180_000),
    kinds,
    topology,
    awaitOutcome: args.includes("--await-outcome"),
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(`${args.includes("--json") ? JSON.stringify(report) : formatReport(report)}\n`);
  process.exitCode = report.violations.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos run could not complete: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 2;
});
