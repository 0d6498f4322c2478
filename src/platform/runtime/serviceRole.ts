import type { CommandExecutor } from "../bus/commandBus";
import { commandQueueName } from "../bus/queueCommandBus";
import { type Reactor, reactorSubscriptionName, startReactor } from "../processing/reactorRunner";
import { observeExecutor } from "../bus/commandTelemetry";
import type { Logger } from "../observability/logger";
import type { ServiceDefinition } from "./service";
import type { RoleContext, RolePart } from "./rolePart";
import { roleLeases } from "./leases";
import type { LeaseCoordinator } from "../processing/leaseCoordinator";
import { RedisWakeupSource, wakeChannel } from "../processing/redisWakeups";
import type { RedisClient } from "../core/redis";
import { errorMessage } from "../core/errors";

/** A service's role, named after it: takes its commands and runs its reactions to others' events. */
export function serviceRole(service: ServiceDefinition): RolePart {
  const reactors = service.reactors ?? [];
  return {
    role: service.name,
    queues: [commandQueueName(service.name)],
    projections: [],
    subscriptions: reactors.map((r) => ({ name: reactorSubscriptionName(service.name, r.name), eventTypes: r.eventTypes })),
    graphql: { resolvers: service.resolvers, nodes: service.nodes ?? [] },
    async start(ctx) {
      const serviceLog = ctx.log.child({ component: service.name });
      const execute = observeExecutor(service.name, service.createExecutor({ store: ctx.store, handlerOptions: ctx.handlerOptions }), ctx.metrics, serviceLog);
      await (await ctx.takeCommands(service.name, execute, serviceLog)).waitUntilReady();
      if (reactors.length) {
        // The service's replicas share its reactions: one owner each (decision 0026).
        const leases = roleLeases(ctx, service.name);
        const subscriber = ctx.redis(); // one subscribed connection for the service's wake-up channels
        for (const reactor of reactors) startReaction(ctx, service.name, reactor, execute, serviceLog, { leases, subscriber });
        await leases.start();
        ctx.onStop(`${service.name} leases`, () => leases.stop()); // stops first: hands off at a checkpoint
      }
      ctx.log.info(`${service.name}: taking commands${reactors.length ? ", reacting to events" : ""}`);
    },
  };
}

function startReaction(
  ctx: RoleContext,
  service: string,
  reactor: Reactor,
  execute: CommandExecutor,
  log: Logger,
  { leases, subscriber }: { leases: LeaseCoordinator; subscriber: RedisClient },
): void {
  const name = reactorSubscriptionName(service, reactor.name);
  // Appenders publish here after an append of one of the reactor's types (the composition lists it).
  const wakeups = new RedisWakeupSource(subscriber, wakeChannel(ctx.keys.prefix, name), (e) => log.warn(`${name} wake-ups: ${errorMessage(e)}`));
  const subscription = startReactor(service, reactor, execute, ctx.pool, ctx.store, log, { leases, wakeups });
  ctx.onStop(`${service} reactor ${reactor.name}`, () => subscription.stop());
}
