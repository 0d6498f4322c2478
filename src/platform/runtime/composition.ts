import { nodeResolvers } from "../graphql/node";
import type { ResolverClass } from "../graphql/schema";
import { historyProjection } from "../projection/historyProjection";
import { sagaProjection } from "../saga/sagaProjection";
import type { WakeTarget } from "../processing/wakeups";
import type { DocumentProjection } from "../projection/types";
import { ProjectionSegments } from "../projection/projectionSegments";
import type { ServiceDefinition } from "./service";
import { apiRole } from "./apiRole";
import { historyGraphQL, projectorRole } from "./projectorRole";
import type { GraphQLPart, RolePart } from "./rolePart";
import { sagaRole } from "./sagaRole";
import { serviceRole } from "./serviceRole";

/** Roles every deployment has; each registered service adds a role of its own name. "all" runs every role in one process. */
export const PLATFORM_ROLES = ["api", "projector", "saga", "all"] as const;

export interface Composition {
  /** Every role, in start order (they stop in reverse): the api last, once what it sends to runs. */
  parts: readonly RolePart[];
  /** Every read model the projector maintains, a projection in segments as one per segment (`orders#0`, ...). */
  projections: readonly DocumentProjection<unknown>[];
  /** How many segments each projection runs as (PROJECTION_SEGMENTS), for the read side to route and gather. */
  segments: ProjectionSegments;
  /** The log processors an append may wake in another process: every role's subscriptions (the saga starter, the services' reactors). */
  reactors: readonly WakeTarget[];
  /** Every resolver the api serves. */
  resolvers: readonly ResolverClass[];
  /** The roles a deployment runs as processes of their own, the platform's first: one container (or replica set) each. */
  processRoles: readonly string[];
}

/**
 * The system as registered: the platform's roles around the services of
 * src/registry.ts. Everything that lists roles, queues, read models or
 * GraphQL types derives it from here.
 */
export function compose(services: readonly ServiceDefinition[], segmentCounts: Readonly<Record<string, number>> = {}): Composition {
  const definitions = allProjections(services);
  const segments = ProjectionSegments.of(definitions, segmentCounts);
  const projections = segments.expand(definitions);
  const sagas = services.flatMap((s) => s.sagas ?? []);
  const projector = projectorRole(projections);
  const serviceRoles = services.map(serviceRole);
  const saga = sagaRole(sagas);
  // Node ids name their types in this order in errors: the services' types, then the platform's.
  const graphql = [...serviceRoles.map((p) => p.graphql), historyGraphQL, saga.graphql, projector.graphql].filter((g): g is GraphQLPart => g !== undefined);
  const resolvers = [...graphql.flatMap((g) => g.resolvers), ...nodeResolvers(graphql.flatMap((g) => g.nodes))];
  const backends = [projector, ...serviceRoles, saga];
  const api = apiRole({
    queues: [...serviceRoles, saga, projector].flatMap((p) => p.queues),
    projections: projections.map((p) => p.name),
    segments,
    resolvers,
    pages: services.flatMap((s) => s.pages ?? []),
  });
  const processRoles = [api, projector, saga, ...serviceRoles].map((p) => p.role);
  const reactors = backends.flatMap((p) => p.subscriptions);
  return { parts: [...backends, api], projections, segments, reactors, resolvers, processRoles };
}

/** Every resolver the API serves: the services', the history's and, when any service has sagas, the saga operations. */
export function allResolvers(services: readonly ServiceDefinition[]): readonly ResolverClass[] {
  return compose(services).resolvers;
}

/** Every read model the projector maintains: the services', the sagas' when there are any, and the history of all of them. */
export function allProjections(services: readonly ServiceDefinition[]): DocumentProjection<unknown>[] {
  const hasSagas = services.some((s) => s.sagas?.length);
  const projections = [...services.flatMap((s) => s.projections), ...(hasSagas ? [sagaProjection as DocumentProjection<unknown>] : [])];
  return [...projections, historyProjection(projections) as DocumentProjection<unknown>];
}

/** The roles a deployment runs as processes of their own: one container (or replica set) each. */
export function processRoles(services: readonly ServiceDefinition[]): string[] {
  return [...compose(services).processRoles];
}

/** Every role `eventline <role>` accepts. */
export function roleNames(services: readonly ServiceDefinition[]): string[] {
  return [...processRoles(services), "all"];
}
