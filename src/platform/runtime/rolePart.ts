import type { WakeTarget } from "../processing/wakeups";
import type { ConnectionOptions, RedisClient } from "../core/redis";
import type { Pool } from "pg";
import type { Config } from "../../config";
import type { CommandHandlerOptions } from "../aggregate/commandHandler";
import type { CommandExecutor } from "../bus/commandBus";
import type { CommandWorker } from "../bus/commandWorker";
import type { FailoverCommandBus } from "../bus/failoverCommandBus";
import type { EventStore } from "../eventstore/eventStore";
import type { NodeDefinition } from "../graphql/node";
import type { ResolverClass } from "../graphql/schema";
import type { RunningServer } from "../graphql/server";
import type { Logger } from "../observability/logger";
import type { Metrics } from "../observability/metrics";
import type { RoleTelemetry } from "./roleTelemetry";
import type { ReadModelKeys } from "../projection/keys";

/** What a part adds to the GraphQL schema the api serves. */
export interface GraphQLPart {
  readonly resolvers: readonly ResolverClass[];
  /** Its entities that `node(id:)` can fetch. */
  readonly nodes: readonly NodeDefinition[];
}

/**
 * One thing the composition root wires: a role a process can run
 * (`eventline <role>`), with what it reports and what it adds to the schema.
 * startApp knows nothing else about it.
 */
export interface RolePart {
  readonly role: string;
  /** BullMQ queues this role reports (depth metrics, Bull Board, the `queues` readiness check). */
  readonly queues: readonly string[];
  /** Read models whose lag it reports and bounds (checkpoints in Redis). */
  readonly projections: readonly string[];
  /**
   * Log subscriptions it runs (checkpoints in PostgreSQL): reactors, the saga starter. With the types
   * they read, which are what an append in another process wakes them for.
   */
  readonly subscriptions: readonly WakeTarget[];
  readonly graphql?: GraphQLPart;
  /**
   * Starts what the role runs; everything it opens is registered with
   * `ctx.onStop`, which stops it in reverse order. The api answers with its server.
   */
  start(ctx: RoleContext): Promise<RunningServer | void>;
}

/** What every role shares in one process, built once by startApp (infrastructure.ts). */
export interface RoleContext {
  readonly config: AppConfig;
  readonly log: Logger;
  /** The process's roles joined by "+", as /health reports it. */
  readonly role: string;
  /** The query GraphiQL opens with. */
  readonly graphiqlQuery: string;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly keys: ReadModelKeys;
  readonly metrics: Metrics;
  readonly telemetry: RoleTelemetry;
  /** Queue lane with the inbox as fallback when Redis is down. */
  readonly bus: FailoverCommandBus;
  readonly handlerOptions: Partial<CommandHandlerOptions>;
  /** Opens a Redis connection that is closed on shutdown. */
  redis(options?: ConnectionOptions): RedisClient;
  onStop(name: string, run: () => Promise<unknown>): void;
  /** Takes a service's commands from both lanes: its BullMQ queue and, for when Redis is down, its inbox. */
  takeCommands(service: string, execute: CommandExecutor, log: Logger): Promise<CommandWorker>;
}

export type AppConfig = Config & { DATABASE_URL: string; REDIS_URL: string };
