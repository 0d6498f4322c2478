import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { LeaseCoordinator } from "../processing/leaseCoordinator";
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
  return new LeaseCoordinator(
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
}
