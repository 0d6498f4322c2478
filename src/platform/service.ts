import type { CommandHandlerOptions } from "./aggregate/commandHandler";
import type { CommandExecutor } from "./bus/commandBus";
import type { EventStore } from "./eventstore/eventStore";
import type { ResolverClass } from "./graphql/schema";
import type { DocumentProjection } from "./projection/types";

/**
 * A bounded context as the platform sees it. Registering one in
 * src/registry.ts is all it takes to run its commands, project its read
 * models and serve its part of the GraphQL schema.
 */
export interface ServiceDefinition {
  readonly name: string;
  readonly projections: readonly DocumentProjection<unknown>[];
  readonly resolvers: readonly ResolverClass[];
  createExecutor(deps: { store: EventStore; handlerOptions: Partial<CommandHandlerOptions> }): CommandExecutor;
}
