import type { Cluster, Redis } from "ioredis";
import type { Pool } from "pg";
import { ReadModelKeys } from "../../src/platform/projection/keys";
import { allProjections } from "../../src/platform/runtime/app";
import { services } from "../../src/registry";
import type { PgStandby } from "../support/pgStandby";
import type { RedisCluster } from "../support/redisCluster";
import type { RunningSystem } from "../support/system";
import type { Random } from "./random";
import type { RedisServer } from "./redisServer";

export const SERVICES = ["inventory", "ordering", "payments"] as const;
export const KILLABLE = [...SERVICES, "projector", "saga"] as const;

export type FaultKind =
  | `kill:${(typeof KILLABLE)[number]}`
  | "redis-restart"
  | "redis-wipe"
  | "pg-terminate"
  | `slow:${(typeof SERVICES)[number]}`
  | ReplicaFault
  | ClusterFault;

/** Faults of a system with replicas of every role and a hot standby. */
type ReplicaFault = "projector-add" | "projector-remove" | "api-kill" | "standby-restart";
/** Faults of a Redis Cluster. */
type ClusterFault = "redis-master-kill" | "slot-move";

/**
 * Where a chaos run puts the system: `single` (one process per role, one
 * Redis of the run's own), `replicated` (two of every role, the log readers
 * on a hot standby, still one Redis) or `cluster` (the same on a Redis
 * Cluster of 3 masters and 3 replicas).
 */
export type Topology = "single" | "replicated" | "cluster";

const SINGLE_REDIS: readonly FaultKind[] = ["redis-restart", "redis-wipe"];
const REPLICAS: readonly FaultKind[] = ["projector-add", "projector-remove", "api-kill", "standby-restart"];
const CLUSTER: readonly FaultKind[] = ["redis-master-kill", "slot-move"];
const COMMON: readonly FaultKind[] = [...KILLABLE.map((r) => `kill:${r}` as const), "pg-terminate", ...SERVICES.map((s) => `slow:${s}` as const)];

/** Every fault a single-process-per-role run draws from (the default `npm run chaos`). */
export const FAULT_KINDS: readonly FaultKind[] = faultKindsFor("single");

/** The faults that make sense on `topology`: no restart or wipe of "the" Redis on a cluster, for one. */
export function faultKindsFor(topology: Topology): readonly FaultKind[] {
  if (topology === "single") return [...COMMON.slice(0, KILLABLE.length), ...SINGLE_REDIS, ...COMMON.slice(KILLABLE.length)];
  if (topology === "replicated") return [...COMMON, ...SINGLE_REDIS, ...REPLICAS];
  return [...COMMON, ...REPLICAS, ...CLUSTER];
}

/** Every kind any topology knows, for the CLI's --only and --skip. */
export const ALL_FAULT_KINDS: readonly FaultKind[] = [...COMMON, ...SINGLE_REDIS, ...REPLICAS, ...CLUSTER];

export interface FaultTarget {
  system: RunningSystem<Redis | Cluster>;
  /** The run's single Redis; null on a cluster. */
  redis: RedisServer | null;
  /** The run's Redis Cluster, when it has one. */
  cluster: RedisCluster | null;
  /** The primary and its hot standby, when the log readers follow one. */
  standby: PgStandby | null;
  /** A connection to the run's database that is not itself cut by pg-terminate. */
  admin: Pool;
  database: string;
  /** How long a slow service stays frozen: past the saga deadline. */
  slowForMs: number;
}

/**
 * The schedule: every kind once (in a seeded order), then seeded picks, so
 * a short run still covers every kind of fault.
 */
export function planFaults(random: Random, count: number, kinds: readonly FaultKind[] = FAULT_KINDS): FaultKind[] {
  const everyKind = [...kinds].sort(() => random.next() - 0.5);
  const rest = Array.from({ length: Math.max(0, count - everyKind.length) }, () => random.pick(kinds));
  return [...everyKind, ...rest].slice(0, count);
}

/** Injects one fault and heals it; returns when the system has everything running again. */
export async function inject(kind: FaultKind, target: FaultTarget, random: Random): Promise<void> {
  const { system } = target;
  const [what, role] = kind.split(":") as [string, string | undefined];
  switch (what) {
    case "kill": {
      // With replicas, any one of them (they are alike); it comes back under its own name.
      const victim = random.pick(system.replicas(role!));
      await system.stop(victim, "SIGKILL");
      await sleep(random.int(100, 1500));
      await system.start(victim);
      return;
    }
    case "slow": {
      // Frozen, not dead: its queue fills, its replies come late, past the saga deadline.
      const child = system.role(random.pick(system.replicas(role!))).child;
      child.kill("SIGSTOP");
      await sleep(target.slowForMs);
      child.kill("SIGCONT");
      return;
    }
    case "redis-restart":
      return needed(target.redis, kind).restart();
    case "redis-wipe":
      return needed(target.redis, kind).wipe();
    case "projector-add":
      await system.start(nextReplicaName(system, "projector"));
      return;
    case "projector-remove": {
      // A graceful scale-down; never the last replica (then one is added first, and another removed).
      if (system.replicas("projector").length < 2) await system.start(nextReplicaName(system, "projector"));
      await system.stop(random.pick(system.replicas("projector")), "SIGTERM");
      return;
    }
    case "api-kill": {
      // The subscribers connected to it reconnect to another replica and resume after their last position.
      const victim = random.pick(system.replicas("api"));
      await system.stop(victim, "SIGKILL");
      await sleep(random.int(200, 1500));
      await system.start(victim);
      return;
    }
    case "standby-restart": {
      const standby = needed(target.standby, kind);
      await standby.stopStandby(random.pick(["fast", "immediate"] as const));
      await sleep(random.int(300, 2000));
      await standby.startStandby();
      return;
    }
    case "redis-master-kill": {
      // SIGKILL: its replica is promoted; the node comes back empty as a replica of its successor.
      const cluster = needed(target.cluster, kind);
      const masters = (await cluster.topology()).filter((n) => n.role === "master" && !n.failing && n.slots.length > 0);
      const { killed } = await cluster.killMaster(random.pick(masters).port);
      await cluster.restartNode(killed);
      return;
    }
    case "slot-move": {
      // The slot of one projection's keys (all of them share its hash tag), while its batches run.
      const cluster = needed(target.cluster, kind);
      const projection = random.pick(allProjections(services));
      await cluster.moveSlot(await cluster.slotOf(new ReadModelKeys(system.prefix).activeGeneration(projection.name)));
      return;
    }
    case "pg-terminate":
      await target.admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [target.database]);
      return;
  }
  throw new Error(`unknown fault ${kind}`);
}

function needed<T>(part: T | null, kind: FaultKind): T {
  if (part === null) throw new Error(`fault ${kind} needs a topology that has what it breaks`);
  return part;
}

/** `projector#3` when `projector` and `projector#2` were started before, whether they still run or not. */
function nextReplicaName(system: RunningSystem<Redis | Cluster>, role: string): string {
  let n = 2;
  while (system.started(`${role}#${n}`)) n += 1;
  return `${role}#${n}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
