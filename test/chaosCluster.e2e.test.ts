import { formatReport, runChaos } from "./chaos/engine";
import { faultKindsFor } from "./chaos/faults";

/**
 * The short, seeded `npm run chaos -- --cluster` inside `npm test`: two of
 * every role on a real Redis Cluster (3 masters, 3 replicas) and a
 * PostgreSQL hot standby, with every fault kind of that topology drawn once,
 * the scale-out ones included (a master killed, a slot moved, a projector
 * added and removed, an api killed under its subscribers, the standby
 * restarted). The seed is fixed so a red run replays; CHAOS_SEED picks
 * another schedule.
 */
const seed = Number(process.env.CHAOS_SEED ?? 20261207);
const kinds = faultKindsFor("cluster");

it(`loses nothing and breaks no invariant on a Redis Cluster and a hot standby (seed ${seed})`, async () => {
  const report = await runChaos({
    seed,
    checkouts: 120,
    faults: kinds.length,
    concurrency: 6,
    deadlineMs: 6000,
    convergeTimeoutMs: 180_000,
    topology: "cluster",
    // Only what the report leaves out: a role whose stop overran its bound.
    log: (line) => void (line.startsWith("shutdown:") && process.stdout.write(`${line}\n`)),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  expect(report.violations).toEqual([]);
  expect(report.checkouts.sent).toBe(120);
  // Every kind of the topology ran once: the scale-out faults are not left to chance.
  expect(Object.keys(report.faults).sort()).toEqual([...kinds].sort()); // as many faults as kinds: each once
  expect(report.subscriptions.changes).toBeGreaterThan(0);
  expect(Object.keys(report.checkouts.outcomes).join(" | ")).toMatch(/confirmed/);
}, 900_000);
