import { formatReport, runChaos } from "./chaos/engine";
import type { FaultKind } from "./chaos/faults";

/**
 * The short seeded variant of `npm run chaos -- --cluster` inside `npm test`:
 * two of every role on a Redis Cluster (3 masters, 3 replicas) and a
 * PostgreSQL hot standby, with each fault the cluster adds once (a master
 * SIGKILLed, a slot moved, a projector added and one removed, an API replica
 * killed under its subscribers, the standby restarted) and two role kills.
 * CHAOS_SEED replays a failing schedule.
 */
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KINDS: readonly FaultKind[] = ["redis-master-kill", "slot-move", "projector-add", "projector-remove", "api-kill", "standby-restart", "kill:projector", "kill:saga"];

it(`loses nothing and breaks no invariant on a Redis Cluster and a hot standby under their faults (seed ${seed})`, async () => {
  const report = await runChaos({
    seed,
    topology: "cluster",
    checkouts: 100,
    faults: KINDS.length,
    kinds: KINDS,
    concurrency: 4,
    deadlineMs: 10_000,
    convergeTimeoutMs: 180_000,
    log: () => undefined,
  });
  process.stdout.write(`${formatReport(report)}\n`);
  expect(report.violations).toEqual([]);
  expect(report.checkouts.sent).toBe(100);
  for (const kind of KINDS) expect(report.faults[kind]).toBe(1);
  // Subscribers followed through the API kill: every change reached them.
  expect(report.subscriptions.changes).toBeGreaterThan(0);
}, 1_500_000);
