import { ValidationError } from "../errors";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import type { CommandBus } from "../bus/commandBus";
import { formatLogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { ProjectionControl } from "../projection/admin";
import type { CheckpointWaiter } from "../projection/checkpointWaiter";
import type { ReadModelStore } from "../projection/readModelStore";
import { randomUUID } from "node:crypto";
import { clientIdempotencyKey, commandFingerprint } from "../aggregate/idempotency";
import type { Principal } from "./auth";

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
  /** Status and operator commands of the projections (admin). */
  projections: ProjectionControl;
  /** Subscribes to a change topic published by the projector. */
  subscribe(topic: string): AsyncIterable<unknown>;
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

/** Waits, if the query asked to, until `projection` has applied the event at `waitFor`. */
export async function readAfter(ctx: RequestContext, projection: string, waitFor?: string | null): Promise<void> {
  if (!waitFor) return;
  const position = parseLogPosition(waitFor);
  if (!position) throw new ValidationError("waitFor", waitFor, "a position returned by a mutation, like '1234.56'");
  await ctx.consistency.waitFor(projection, position, ctx.readWaitMaxMs);
}

export function positionToken(outcome: CommandOutcome): string | null {
  return outcome.position ? formatLogPosition(outcome.position) : null;
}
