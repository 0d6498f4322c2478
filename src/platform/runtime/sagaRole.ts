import { commandQueueName } from "../bus/queueCommandBus";
import { observeExecutor } from "../bus/commandTelemetry";
import { SagaResolvers, sagaNode } from "../graphql/sagaResolvers";
import { SAGA_QUEUE, SAGA_STARTER, SagaRunner } from "../saga/sagaRunner";
import { createSagaExecutor, SAGA_SERVICE } from "../saga/sagaService";
import type { SagaDefinition } from "../saga/types";
import { errorMessage } from "../core/errors";
import { RedisWakeupSource, wakeChannel } from "../processing/redisWakeups";
import type { RoleContext, RolePart } from "./rolePart";
import { roleLeases } from "./leases";

/**
 * The saga role: starts and advances the registered sagas, and takes the
 * operators' saga commands (redrive). Without sagas it runs nothing.
 */
export function sagaRole(sagas: readonly SagaDefinition<unknown>[]): RolePart {
  if (!sagas.length) return { role: "saga", queues: [], projections: [], subscriptions: [], start: async () => undefined };
  return {
    role: "saga",
    queues: [SAGA_QUEUE, commandQueueName(SAGA_SERVICE)],
    projections: [],
    subscriptions: [{ name: SAGA_STARTER, eventTypes: [...new Set(sagas.flatMap((s) => s.triggerTypes))] }],
    graphql: { resolvers: [SagaResolvers], nodes: [sagaNode] },
    async start(ctx) {
      const runner = createSagaRunner(ctx, sagas);
      await runner.start();
      ctx.onStop("saga runner", () => runner.stop());
      const sagaLog = ctx.log.child({ component: SAGA_SERVICE });
      const redrive = createSagaExecutor(ctx.store, ctx.handlerOptions, (stream, saga) => runner.wake(stream, saga));
      await ctx.takeCommands(SAGA_SERVICE, observeExecutor(SAGA_SERVICE, redrive, ctx.metrics, sagaLog), sagaLog);
      ctx.telemetry.watchSagas();
      ctx.log.info(`saga: running ${sagas.map((s) => s.name).join(", ")}`);
    },
  };
}

function createSagaRunner(ctx: RoleContext, sagas: readonly SagaDefinition<unknown>[]): SagaRunner {
  const { config } = ctx;
  const log = ctx.log.child({ component: "saga" });
  return new SagaRunner(
    {
      db: ctx.pool,
      store: ctx.store,
      bus: ctx.bus,
      connection: ctx.redis(),
      prefix: ctx.keys.prefix,
      definitions: sagas,
      log,
      leases: roleLeases(ctx, "saga"),
      // Appenders publish here after an OrderPlaced (or any trigger): the saga starts without waiting for a poll.
      wakeups: new RedisWakeupSource(ctx.redis(), wakeChannel(ctx.keys.prefix, SAGA_STARTER), (e) => log.warn(`saga starter wake-ups: ${errorMessage(e)}`)),
    },
    {
      ...(config.SAGA_DEADLINE_MS ? { deadlineMs: config.SAGA_DEADLINE_MS } : {}),
      stepTimeoutMs: config.SAGA_STEP_TIMEOUT_MS,
      attempts: config.SAGA_ATTEMPTS,
      giveUpMs: config.SAGA_GIVE_UP_MS,
      reclaimWithinMs: config.RECLAIM_WITHIN_MS,
    },
  );
}
