import type { Pool } from "pg";
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
  | `slow:${(typeof SERVICES)[number]}`;

export const FAULT_KINDS: readonly FaultKind[] = [
  ...KILLABLE.map((r) => `kill:${r}` as const),
  "redis-restart",
  "redis-wipe",
  "pg-terminate",
  ...SERVICES.map((s) => `slow:${s}` as const),
];

export interface FaultTarget {
  system: RunningSystem;
  redis: RedisServer;
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
    case "kill":
      await system.stop(role!, "SIGKILL");
      await sleep(random.int(100, 1500));
      await system.start(role!);
      return;
    case "slow": {
      // Frozen, not dead: its queue fills, its replies come late, past the saga deadline.
      const child = system.role(role!).child;
      child.kill("SIGSTOP");
      await sleep(target.slowForMs);
      child.kill("SIGCONT");
      return;
    }
    case "redis-restart":
      return target.redis.restart();
    case "redis-wipe":
      return target.redis.wipe();
    case "pg-terminate":
      await target.admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [target.database]);
      return;
  }
  throw new Error(`unknown fault ${kind}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
