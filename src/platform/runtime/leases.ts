import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { LeaseCoordinator } from "../processing/leaseCoordinator";
import type { Metrics } from "../observability/metrics";
import type { RoleContext } from "./rolePart";

/** One id per process: two pods sharing an ordinal during a roll-out are still two owners. */
const processId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;

/**
 * The leases of one role's log processors in this process (decision 0026):
 * the role's replicas share its units. Projector replicas in a StatefulSet
 * split them by PROJECTOR_ORDINAL; everything else by rendezvous hashing.
 */
export function roleLeases(ctx: RoleContext, group: string, options: { byOrdinal?: boolean } = {}): LeaseCoordinator {
  const { config } = ctx;
  const ordinal = options.byOrdinal ? (config.PROJECTOR_ORDINAL ?? null) : null;
  const coordinator = new LeaseCoordinator(
    ctx.pool,
    {
      group,
      member: ordinal === null ? processId : `${group}-${ordinal}/${processId}`,
      periodMs: config.LEASE_PERIOD_MS,
      ordinal,
      replicas: config.PROJECTOR_REPLICAS ?? 0,
    },
    ctx.log.child({ component: `leases:${group}` }),
  );
  reported(ctx.metrics).push(coordinator);
  return coordinator;
}

/** The coordinators of this process, per metrics registry: one gauge family shows them all (role "all" has several). */
const reporting = new WeakMap<Metrics, LeaseCoordinator[]>();

function reported(metrics: Metrics): LeaseCoordinator[] {
  let coordinators = reporting.get(metrics);
  if (coordinators) return coordinators;
  const list: LeaseCoordinator[] = [];
  reporting.set(metrics, list);
  metrics.gauge(
    "eventline_processor_lease_token",
    "Fencing token of each processor unit this process owns (a projection, a reaction, the saga starter); the owner label names this process",
    ["group", "processor", "segment", "owner"],
    async () =>
      list.flatMap((c) =>
        c.held().map((unit) => ({ labels: { group: c.options.group, processor: unit.processor, segment: String(unit.segment), owner: c.member }, value: unit.token })),
      ),
  );
  coordinators = list;
  return coordinators;
}
