import type { CommandHandlerOptions } from "../aggregate/commandHandler";
import type { ErrorCatalogue } from "../core/errorCatalogue";
import type { CommandExecutor } from "../bus/commandBus";
import type { EventSchemas } from "../eventstore/eventSchemas";
import type { EventStore } from "../eventstore/eventStore";
import type { NodeDefinition } from "../graphql/node";
import type { ResolverClass } from "../graphql/schema";
import type { DocumentProjection } from "../projection/types";
import type { SagaDefinition } from "../saga/types";
import type { Reactor } from "../processing/reactorRunner";
import type { StaticPage } from "../graphql/staticPages";

/**
 * A bounded context as the platform sees it. Registering one in
 * src/registry.ts is all it takes to run its commands (a role of its name),
 * project its read models, serve its part of the GraphQL schema and run its
 * sagas: runtime/composition.ts derives its role, queue and log followers.
 */
export interface ServiceDefinition {
  readonly name: string;
  /** Every event type the context appends, with its versions; the store validates and upcasts with them. */
  readonly events: EventSchemas;
  readonly projections: readonly DocumentProjection<unknown>[];
  readonly resolvers: readonly ResolverClass[];
  /** The error codes of its own it may answer with (beside the platform's); docs/errors.md lists them. */
  readonly errors?: ErrorCatalogue;
  /** Its entities that `node(id:)` can fetch; each object type implements Node (see graphql/node.ts). */
  readonly nodes?: readonly NodeDefinition[];
  readonly reactors?: readonly Reactor[];
  readonly sagas?: readonly SagaDefinition<unknown>[];
  /** Static browser pages the api serves, e.g. a dashboard that talks GraphQL back to it. */
  readonly pages?: readonly StaticPage[];
  createExecutor(deps: { store: EventStore; handlerOptions: Partial<CommandHandlerOptions> }): CommandExecutor;
}
