import { ValidationError } from "../core/errors";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import type { CommandBus } from "../bus/commandBus";
import { compareLogPositions, formatLogPosition, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { ProjectionControl } from "../projection/admin";
import type { CheckpointWaiter } from "../projection/checkpointWaiter";
import type { ReadModelStore } from "../projection/readModelStore";
import { randomUUID } from "node:crypto";
import { clientIdempotencyKey, commandFingerprint } from "../aggregate/idempotency";
import type { Principal } from "./auth";
import type { OperationRequest } from "./server";
import type { FeedItem, FeedRequest } from "../subscriptions/feeds";

/** What every resolver gets: thin access to the command bus and the read side. */
export interface RequestContext {
  /** Who is calling; `@Authorized` scopes are checked against it (see auth.ts). */
  principal: Principal;
  /** The acting subject (the token's `sub`), recorded in the metadata of every event a command appends. */
  actor: string;
  commands: CommandBus;
  readModels: ReadModelStore;
  consistency: CheckpointWaiter;
  /** Upper bound for `waitFor`, so a query never hangs on a stalled projector. */
  readWaitMaxMs: number;
  /** Positions the request asked for outside the fields' arguments (header, extension); every read waits for them. */
  requestedPositions: readonly RequestedPosition[];
  /** Status and operator commands of the projections (admin). */
  projections: ProjectionControl;
  /** Opens a feed of a change topic published by the projector, resumed after a position (see platform/subscriptions). */
  subscribe(request: FeedRequest): Promise<AsyncIterable<FeedItem>>;
}

/** Contexts this api built: subscription resolvers get theirs untyped from type-graphql and narrow it with `isRequestContext`. */
const issued = new WeakSet<object>();

/** Registers a request's context, so that `isRequestContext` recognises it later. */
export function issueRequestContext(context: RequestContext): RequestContext {
  issued.add(context);
  return context;
}

/** True for a context `issueRequestContext` registered: a guard, where a cast would trust any object. */
export function isRequestContext(value: unknown): value is RequestContext {
  return typeof value === "object" && value !== null && issued.has(value);
}

/**
 * Builds the command context for a mutation; a client-chosen commandId makes
 * retries safe. The idempotency key is that id scoped to the caller, and the
 * command is fingerprinted as the client stated it (`request`): a resend
 * matches only the same caller asking the same thing (see idempotency.ts).
 */
export function commandContext(ctx: RequestContext, commandId: string | null | undefined, request: unknown): CommandContext {
  // No '/': the scoped key's separator, and what keeps client keys apart from internal ones.
  if (commandId != null && !/^[A-Za-z0-9_.:-]{1,100}$/.test(commandId)) {
    throw new ValidationError("commandId", commandId, "1-100 characters of letters, digits, '_', '.', ':' or '-'");
  }
  const id = commandId ?? randomUUID();
  return {
    commandId: clientIdempotencyKey(ctx.actor, id),
    clientCommandId: id,
    // The mutation starts the correlation: every command and event it causes, across services and sagas, carries this id.
    correlationId: id,
    actor: ctx.actor,
    fingerprint: commandFingerprint(request),
  };
}

/**
 * Read-your-writes without fragmenting client caches: a `waitFor` argument is
 * part of a field's cache identity (every position makes a new root entry in
 * Apollo's or urql's cache), so a client may send the position beside the
 * operation instead, as this HTTP header or request extension.
 */
export const WAIT_FOR_HEADER = "X-Eventline-Wait-For";
export const WAIT_FOR_EXTENSION = "waitFor";

export interface RequestedPosition {
  /** Where it came from, named in a VALIDATION error. */
  source: string;
  value: unknown;
}

/** The positions a request carries in the header and the extension; empty values count as absent, like `waitFor: ""`. */
export function requestedPositions(request: OperationRequest): RequestedPosition[] {
  const found: RequestedPosition[] = [];
  const header = request.headers[WAIT_FOR_HEADER.toLowerCase()];
  if (header !== undefined && header !== "") found.push({ source: `${WAIT_FOR_HEADER} header`, value: header });
  const extension = request.extensions[WAIT_FOR_EXTENSION];
  if (extension !== undefined && extension !== null && extension !== "") found.push({ source: `extensions.${WAIT_FOR_EXTENSION}`, value: extension });
  return found;
}

/** What readAfter uses of a RequestContext. */
export type ReadingContext = Pick<RequestContext, "readWaitMaxMs" | "requestedPositions"> & { consistency: Pick<CheckpointWaiter, "waitFor"> };

/**
 * Waits, if the query asked to, until `projection` has applied the event at
 * `waitFor` and at every position of the request: the latest of them.
 */
export async function readAfter(ctx: ReadingContext, projection: string, waitFor?: string | null): Promise<void> {
  const asked = waitFor ? [{ source: "waitFor", value: waitFor }, ...ctx.requestedPositions] : ctx.requestedPositions;
  if (asked.length === 0) return;
  const latest = asked.map(positionOf).reduce((a, b) => (compareLogPositions(a, b) >= 0 ? a : b));
  await ctx.consistency.waitFor(projection, latest, ctx.readWaitMaxMs);
}

function positionOf({ source, value }: RequestedPosition): LogPosition {
  const position = typeof value === "string" ? parseLogPosition(value) : null;
  if (!position) throw new ValidationError(source, value, "a position returned by a mutation, like '1234.56'");
  return position;
}

export function positionToken(outcome: CommandOutcome): string | null {
  return outcome.position ? formatLogPosition(outcome.position) : null;
}
