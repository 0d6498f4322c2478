import type { Cluster, Redis } from "ioredis";
import { createPool } from "../../src/platform/eventstore/pool";
import { deployedRoles } from "../../src/registry";
import { readModelsMatchLog, stuckJobs } from "../support/invariants";
import { PgStandby } from "../support/pgStandby";
import { RedisCluster } from "../support/redisCluster";
import { type Availability, availability, finalStatus, formatAvailability } from "./availability";
import { eventually, type RunningSystem, startSystem } from "../support/system";
import { ADMIN_DATABASE_URL } from "../support/testEnv";
import { conservation, exactlyOnce, expectedOutcomes, outcomes, sagasSettled, settlement, type Violation } from "./checks";
import { type FaultKind, faultKindsFor, inject, planFaults, type Topology } from "./faults";
import { Random } from "./random";
import { RedisServer } from "./redisServer";
import { followReplicas, logHead } from "./replicaSubscribers";
import { watchOrders } from "./subscribers";
import { type Checkout, placeCheckout, planCheckout, seedWorkload } from "./workload";

export interface ChaosOptions {
  seed: number;
  checkouts: number;
  faults: number;
  /** Clients placing orders at once. */
  concurrency: number;
  /** Saga deadline; a slow fault freezes a service for longer than this. */
  deadlineMs: number;
  /** Longest wait for the system to settle once the faults stop. */
  convergeTimeoutMs: number;
  /**
   * Each client waits for its order's final status before placing the next (closed loop), as a
   * shopper would: the time to the final status then measures recovery, not a backlog of sagas.
   */
  awaitOutcome?: boolean;
  /** Fault kinds to draw from (all of the topology's by default); narrowing it helps to chase one failure. */
  kinds?: readonly FaultKind[];
  /** `single` by default; `replicated` and `cluster` run two of every role on a hot standby (see Topology). */
  topology?: Topology;
  log(line: string): void;
}

export interface ChaosReport {
  seed: number;
  checkouts: { sent: number; accepted: number; refused: number; retried: number; outcomes: Record<string, number> };
  faults: Partial<Record<FaultKind, number>>;
  subscriptions: { subscribers: number; changes: number };
  availability: Availability;
  violations: Violation[];
  convergedInMs: number | null;
  durationMs: number;
}

/** Every role the registry deploys, each its own process. */
const ROLES = [...deployedRoles];

/**
 * Drives concurrent checkouts through every role, each its own process,
 * while injecting seeded faults between them; then lets the system settle
 * and checks every promise the system makes against the log.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const random = new Random(options.seed);
  const runId = `chaos${options.seed}`;
  const topology = options.topology ?? "single";
  const replicated = topology !== "single";
  const servers = await startServers(topology);
  const { redis, cluster, standby } = servers;
  const env = {
    SAGA_DEADLINE_MS: String(options.deadlineMs),
    SAGA_STEP_TIMEOUT_MS: "1500",
    COMMAND_TIMEOUT_MS: "3000",
    PROJECTOR_CATCH_UP_MS: "500",
    // Twelve processes or more share the run's own primary and standby.
    ...(replicated ? { PG_POOL_SIZE: "3" } : {}),
  };
  let system: RunningSystem<Redis | Cluster>;
  try {
    system = cluster
      ? await startSystem(ROLES, env, { redisCluster: cluster, standby: standby ?? undefined })
      : await startSystem(ROLES, { ...env, REDIS_URL: redis!.url }, standby ? { standby } : {});
    // A second process of every role; faults add and remove projectors beyond these.
    for (const role of replicated ? ROLES : []) await system.start(`${role}#2`);
  } catch (error) {
    await servers.stop();
    throw error;
  }
  const admin = createPool(standby ? standby.primaryUrl() : ADMIN_DATABASE_URL, { max: 1 });
  const database = new URL(system.db.url).pathname.slice(1);
  system.db.pool.on("error", () => undefined); // its idle connections are cut too; it reconnects
  const faultsDone: Partial<Record<FaultKind, number>> = {};
  const checkouts: Checkout[] = [];
  const violations: Violation[] = [];
  let convergedInMs: number | null = null;
  let subscriptions = { subscribers: 0, changes: 0 };

  try {
    await seedWorkload(system.url);
    const plans = Array.from({ length: options.checkouts }, (_, i) => planCheckout(random, runId, i));
    const sampled = plans.filter((_, i) => i % Math.max(1, Math.floor(options.checkouts / 10)) === 0).map((p) => p.orderId);
    // With API replicas, subscribers spread over them, and follow from the log's head through the death of theirs.
    const apiUrls = () => system.replicas("api").map((name) => system.urlOf(name));
    const head = await logHead(system.db.pool);
    const replicaWatchers = replicated ? followReplicas(apiUrls, head, 4) : null;
    const orderWatchers = replicated ? null : watchOrders(system.url, sampled, head);
    subscriptions.subscribers = replicated ? 4 : sampled.length + 1;

    // Fault j fires once checkout trigger[j] has started; checkouts past a trigger wait for its fault to start,
    // so every fault lands in the middle of the load, whatever the machine's speed.
    const schedule = planFaults(random, options.faults, options.kinds ?? faultKindsFor(topology));
    const trigger = schedule.map((_, j) => Math.floor(((j + 1) * options.checkouts) / (schedule.length + 1)));
    let startedCheckouts = 0;
    let faultsStarted = 0;
    let broken: unknown = null;
    const faultRandom = new Random(options.seed ^ 0x5eed);
    const faultLoop = (async () => {
      for (const [j, kind] of schedule.entries()) {
        while (startedCheckouts < trigger[j]!) await sleep(20);
        faultsStarted += 1;
        options.log(`fault ${j + 1}/${schedule.length}: ${kind} (after ${startedCheckouts} checkouts)`);
        const injected = Date.now();
        await inject(kind, { system, redis, cluster, standby, admin, database, slowForMs: options.deadlineMs + 2000 }, faultRandom);
        // For a kill: until the restarted role is ready, which is what the recovery bound counts from.
        options.log(`fault ${j + 1}/${schedule.length}: ${kind} healed after ${((Date.now() - injected) / 1000).toFixed(1)} s`);
        faultsDone[kind] = (faultsDone[kind] ?? 0) + 1;
      }
    })().catch((error: unknown) => {
      broken = error; // the harness failed, not the system: stop the load and say so
    });
    let next = 0;
    const client = async () => {
      for (let i = next++; i < plans.length && !broken; i = next++) {
        while (faultsStarted < trigger.filter((t) => t < i).length && !broken) await sleep(20);
        startedCheckouts += 1;
        // Clients spread over the API replicas; a retry goes to whichever runs then.
        const checkout = await placeCheckout(() => apiUrls()[i % apiUrls().length] ?? system.url, plans[i]!);
        checkouts.push(checkout);
        if (options.awaitOutcome && checkout.outcome === "accepted") await finalStatus(system.db, checkout.orderId, options.deadlineMs + 30_000);
        if (checkouts.length % 100 === 0) options.log(`${checkouts.length}/${plans.length} checkouts placed`);
      }
    };
    await Promise.all([faultLoop, ...Array.from({ length: options.concurrency }, client)]);
    if (broken) throw new Error(`fault injection failed: ${String(broken)}`);

    const healed = Date.now();
    options.log("faults over: waiting for the system to settle");
    // Quiescent: no order pending, no saga running. Late replies may still be undone after that
    // (a late authorization voided by its tombstone), so the checks below get a short grace.
    const settled = await until("quiescence", options.convergeTimeoutMs, async () => {
      const open = [...(await settlement(system.db)).filter((v) => v.check === "orders settled"), ...(await sagasSettled(system.db)).filter((v) => v.detail.includes("stuck"))];
      return open.length === 0;
    });
    if (settled) convergedInMs = Date.now() - healed;
    else violations.push({ check: "convergence", detail: `not settled ${options.convergeTimeoutMs} ms after the last fault` });
    await until("late compensations", 15_000, async () => (await settlement(system.db)).length === 0);
    // Queues settled too: a job a killed worker held is taken back within the recovery bound (RECLAIM_WITHIN_MS).
    await until("queues", 15_000, async () => (await stuckJobs(system.redis, system.prefix)).length === 0);
    for (const job of await stuckJobs(system.redis, system.prefix)) violations.push({ check: "queues settled", detail: job });

    violations.push(...(await exactlyOnce(system.db, checkouts)));
    violations.push(...(await settlement(system.db)));
    violations.push(...(await expectedOutcomes(system.db, checkouts)));
    violations.push(...(await sagasSettled(system.db)));
    violations.push(...(await conservation(system.db)));
    for (const name of await readModelsMatchLog(system.db, system.redis, system.prefix)) {
      violations.push({ check: "read models", detail: `${name} differs from a from-scratch projection of the log` });
    }
    const accepted = new Set(checkouts.filter((c) => c.outcome === "accepted").map((c) => c.orderId));
    for (const c of checkouts.filter((c) => c.outcome === "refused")) violations.push({ check: "accepted", detail: `${c.orderId} refused: ${c.refusal}` });
    const seen = replicaWatchers ? await replicaWatchers.check(system.db.pool) : await orderWatchers!.check(system.db.pool, accepted);
    violations.push(...seen.violations);
    subscriptions = { ...subscriptions, changes: seen.changes };
    await (replicaWatchers ?? orderWatchers!).close();

    return {
      seed: options.seed,
      checkouts: {
        sent: checkouts.length,
        accepted: accepted.size,
        refused: checkouts.length - accepted.size,
        retried: checkouts.filter((c) => c.attempts > 1).length,
        outcomes: await outcomes(system.db),
      },
      faults: faultsDone,
      subscriptions,
      availability: await availability(system.db, checkouts),
      violations,
      convergedInMs,
      durationMs: Date.now() - started,
    };
  } finally {
    const names = ROLES.flatMap((role) => system.replicas(role));
    await system.shutdown().catch((error: unknown) => options.log(`shutdown: ${String(error)}`));
    // A role whose graceful stop overran SHUTDOWN_TIMEOUT_MS says what it waited on: worth a line, not a violation.
    for (const name of names) {
      for (const line of system.role(name).output().split("\n")) if (line.includes("SHUTDOWN_TIMEOUT_MS")) options.log(`shutdown: ${name}: ${line}`);
    }
    await admin.end();
    await servers.stop();
  }
}

/** The run's own servers: a Redis, or a Redis Cluster; with replicas, a PostgreSQL primary and its hot standby. */
async function startServers(topology: Topology) {
  const started: Array<{ stop(): Promise<void> }> = [];
  const stop = async () => {
    for (const server of started.reverse()) await server.stop().catch(() => undefined);
  };
  try {
    const redis = topology === "cluster" ? null : await RedisServer.start();
    if (redis) started.push(redis);
    const cluster = topology === "cluster" ? await RedisCluster.start() : null;
    if (cluster) started.push(cluster);
    const standby = topology === "single" ? null : await PgStandby.start({ maxConnections: 250 });
    if (standby) started.push(standby);
    return { redis, cluster, standby, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `eventually` that reports instead of throwing: not converging is a finding, not a crash of the run.
 * A probe that fails (a cut connection) counts as not yet; probes scan the log, so not too often.
 */
const until = (what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<boolean> =>
  eventually(() => probe().catch(() => false), what, timeoutMs, 250).then(
    () => true,
    () => false,
  );

/** The report as people read it; the JSON form goes to machines. */
export function formatReport(report: ChaosReport): string {
  const faults = Object.entries(report.faults).map(([k, n]) => `${k}×${n}`).join(", ");
  const total = Object.values(report.faults).reduce((a, b) => a + (b ?? 0), 0);
  return [
    `chaos seed ${report.seed}: ${report.checkouts.sent} checkouts (${report.checkouts.accepted} accepted, ${report.checkouts.refused} refused, ${report.checkouts.retried} needed retries)`,
    `  outcomes: ${Object.entries(report.checkouts.outcomes).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `  faults: ${total} (${faults})`,
    formatAvailability(report.availability),
    `  subscriptions: ${report.subscriptions.subscribers} subscribers, ${report.subscriptions.changes} changes checked`,
    `  converged in ${report.convergedInMs === null ? "NEVER" : `${(report.convergedInMs / 1000).toFixed(1)} s`} after the last fault; run took ${(report.durationMs / 1000).toFixed(1)} s`,
    `  violations: ${report.violations.length}`,
    ...report.violations.slice(0, 50).map((v) => `    - [${v.check}] ${v.detail}`),
    ...(report.violations.length ? [`  reproduce with: npm run chaos -- --seed ${report.seed}`] : []),
  ].join("\n");
}
