import { createHash } from "node:crypto";
import { IdempotencyKeyReusedError } from "../core/errors";
import type { CommandContext } from "./command";

/**
 * Idempotency keys. A client's commandId is scoped to the caller: the key is
 * `client/<actor>/<commandId>`, so two callers with the same id run two
 * commands, and no client can take a key another caller (or the system) uses.
 * Client ids cannot contain '/', and every internal key (saga steps,
 * `saga-start:`, `react:`) is written by the system without this prefix: a
 * namespace clients cannot write.
 */
export const CLIENT_KEY_PREFIX = "client/";

export function clientIdempotencyKey(actor: string, clientCommandId: string): string {
  return `${CLIENT_KEY_PREFIX}${actor}/${clientCommandId}`;
}

/** The id to show in messages and logs: the client's own, not the scoped key. */
export function shownCommandId(context: Pick<CommandContext, "commandId" | "clientCommandId">): string {
  return context.clientCommandId ?? context.commandId;
}

/** JSON with object keys sorted, so equal commands hash equally whatever order their fields came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A hash of what a command asks: its type, target and payload. */
export function commandFingerprint(command: unknown): string {
  return createHash("sha256").update(canonicalJson(command)).digest("hex");
}

/**
 * The fingerprint a command is known by: the one its sender set (the API edge
 * hashes the request as the client stated it, so a repriced catalog does not
 * make a resent placeOrder look different), else the command's own.
 */
export function fingerprintOf(command: unknown, context: Pick<CommandContext, "fingerprint">): string {
  return context.fingerprint ?? commandFingerprint(command);
}

/** What a stored idempotency record says about the command that first used the key (null: recorded before it was kept). */
export interface FirstUse {
  actor: string | null;
  fingerprint: string | null;
}

/** Throws IDEMPOTENCY_KEY_REUSED unless the command now sent is the one that first used the key. */
export function assertSameCommand(first: FirstUse, command: unknown, context: CommandContext): void {
  const sameActor = first.actor === null || first.actor === context.actor;
  const sameCommand = first.fingerprint === null || first.fingerprint === fingerprintOf(command, context);
  if (!sameActor || !sameCommand) throw new IdempotencyKeyReusedError(shownCommandId(context));
}
