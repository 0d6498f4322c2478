import type { CommandHandlerOptions } from "./aggregate/commandHandler";
import type { ErrorCatalogue } from "./errorCatalogue";
import type { CommandExecutor } from "./bus/commandBus";
import type { EventSchemas } from "./eventstore/eventSchemas";
import type { EventStore } from "./eventstore/eventStore";
import type { RecordedEvent } from "./eventstore/types";
import type { NodeDefinition } from "./graphql/node";
import type { ResolverClass } from "./graphql/schema";
import type { DocumentProjection } from "./projection/types";
import type { SagaDefinition } from "./saga/types";

/**
 * Choreography: a service reacting to facts of others with commands to
 * itself. `key` makes each command's id deterministic, so a redelivered
 * event never applies twice.
 */
export interface Reactor<Command = unknown> {
  readonly name: string;
  readonly eventTypes: readonly string[];
  react(event: RecordedEvent): Array<{ key: string; command: Command }>;
}

/**
 * A folder of static files (index.html plus its scripts and styles) served
 * under `path`. The files must be self-contained: the api sends them with a
 * Content-Security-Policy that allows nothing but the same origin, so a page
 * works offline and cannot pull from a CDN.
 */
export interface StaticPage {
  /** URL path, e.g. `/dashboard`; the folder's index.html answers `/dashboard/`. */
  readonly path: string;
  /** Absolute path of the folder, e.g. `join(__dirname, "dashboard")`. */
  readonly directory: string;
  /** Named in the start-up log, e.g. "Sales dashboard". */
  readonly title: string;
}

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
