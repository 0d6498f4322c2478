import { historyEventNode, HistoryQueries } from "../graphql/historyResolvers";
import { redisTarget } from "./redisTarget";
import { Projector } from "../projection/projector";
import { ProjectionResolvers, projectionStatusNode } from "../graphql/projectionResolvers";
import type { DocumentProjection } from "../projection/types";
import { PROJECTOR_QUEUE } from "../projection/wakeups";
import type { GraphQLPart, RoleContext, RolePart } from "./rolePart";
import { roleLeases } from "./leases";

/** The projector role: applies the log to every registered read model in Redis. */
export function projectorRole(projections: readonly DocumentProjection<unknown>[]): RolePart {
  const names = projections.map((p) => p.name);
  return {
    role: "projector",
    queues: [PROJECTOR_QUEUE],
    projections: names,
    subscriptions: [],
    graphql: { resolvers: [ProjectionResolvers], nodes: [projectionStatusNode] },
    async start(ctx) {
      const projector = createProjector(ctx, projections);
      ctx.metrics.gauge(
        "eventline_projector_batches_thrown_away",
        "Batches this process read and threw away because another replica committed first: 0 with leases, barring a hand-off",
        [],
        async () => [{ labels: {}, value: projector.thrownAway }],
      );
      await projector.start();
      ctx.onStop("projector", () => projector.stop());
      ctx.log.info(`projector: ${names.join(", ")}`);
    },
  };
}

/** The history of every event: its read model runs in the projector, the api serves it. */
export const historyGraphQL: GraphQLPart = { resolvers: [HistoryQueries], nodes: [historyEventNode] };

function createProjector(ctx: RoleContext, projections: readonly DocumentProjection<unknown>[]): Projector {
  const { config, store, keys, log } = ctx;
  // Projector replicas share the projections: one owner each (decision 0026).
  const leases = roleLeases(ctx, "projector", { byOrdinal: true });
  return new Projector({ store, redisUrl: redisTarget(config) ?? config.REDIS_URL, keys, projections, log: log.child({ component: "projector" }), leases }, {
    batchSize: config.PROJECTOR_BATCH_SIZE,
    catchUpEveryMs: config.PROJECTOR_CATCH_UP_MS,
    maxEventAttempts: config.PROJECTOR_MAX_EVENT_ATTEMPTS,
    changeLogLength: config.SUBSCRIPTION_REPLAY_BATCHES,
    reclaimWithinMs: config.RECLAIM_WITHIN_MS,
  });
}
