import type { CommandExecutor } from "../bus/commandBus";
import { commandQueueName } from "../bus/queueCommandBus";
import { type Reactor, reactorSubscriptionName, startReactor } from "../processing/reactorRunner";
import { observeExecutor } from "../bus/commandTelemetry";
import type { Logger } from "../observability/logger";
import type { ServiceDefinition } from "./service";
import type { RoleContext, RolePart } from "./rolePart";

/** A service's role, named after it: takes its commands and runs its reactions to others' events. */
export function serviceRole(service: ServiceDefinition): RolePart {
  const reactors = service.reactors ?? [];
  return {
    role: service.name,
    queues: [commandQueueName(service.name)],
    projections: [],
    subscriptions: reactors.map((r) => reactorSubscriptionName(service.name, r.name)),
    graphql: { resolvers: service.resolvers, nodes: service.nodes ?? [] },
    async start(ctx) {
      const serviceLog = ctx.log.child({ component: service.name });
      const execute = observeExecutor(service.name, service.createExecutor({ store: ctx.store, handlerOptions: ctx.handlerOptions }), ctx.metrics, serviceLog);
      await (await ctx.takeCommands(service.name, execute, serviceLog)).waitUntilReady();
      for (const reactor of reactors) startReaction(ctx, service.name, reactor, execute, serviceLog);
      ctx.log.info(`${service.name}: taking commands${reactors.length ? ", reacting to events" : ""}`);
    },
  };
}

function startReaction(ctx: RoleContext, service: string, reactor: Reactor, execute: CommandExecutor, log: Logger): void {
  const subscription = startReactor(service, reactor, execute, ctx.pool, ctx.store, log);
  ctx.onStop(`${service} reactor ${reactor.name}`, () => subscription.stop());
}
