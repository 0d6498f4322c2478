import { z } from "zod";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { DomainError, ValidationError } from "../errors";
import { formatLogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { DomainEvent } from "../eventstore/types";

/** What travels in a command job. */
export interface CommandJob {
  command: unknown;
  context: CommandContext;
}

const text = (max: number) => z.string().min(1).max(max);
const jobSchema = z.object({
  command: z.unknown(),
  context: z.object({
    commandId: text(1000),
    clientCommandId: text(100).optional(),
    correlationId: text(1000).optional(),
    causationId: text(1000).optional(),
    actor: text(1000),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
});

/**
 * A job as the owning service takes it off its queue: parsed, not trusted. The
 * command itself is parsed by the service's executor against its schemas.
 */
export function parseCommandJob(data: unknown): CommandJob {
  const parsed = jobSchema.safeParse(data);
  if (parsed.success) return { command: parsed.data.command, context: parsed.data.context };
  const issue = parsed.error.issues[0]!;
  throw new ValidationError(["job", ...issue.path.map(String)].join("."), "a malformed job", issue.message);
}

/**
 * What a command job returns. Domain refusals are answers, not failures: they
 * complete the job (no retry) and are rebuilt as DomainErrors on the caller's side.
 */
export type CommandReply =
  | { ok: true; outcome: WireOutcome }
  | { ok: false; error: { code: string; message: string; details: Record<string, unknown> } };

interface WireOutcome extends Omit<CommandOutcome, "position"> {
  position: string | null;
}

export function toReply(outcome: CommandOutcome): CommandReply {
  return { ok: true, outcome: { ...outcome, position: outcome.position ? formatLogPosition(outcome.position) : null } };
}

export function refusalReply(error: DomainError): CommandReply {
  return { ok: false, error: { code: error.code, message: error.message, details: { ...error.details } } };
}

export function fromReply(reply: CommandReply): CommandOutcome {
  if (!reply.ok) throw new DomainError(reply.error.code, reply.error.message, reply.error.details);
  const { position, ...rest } = reply.outcome;
  return { ...rest, events: rest.events as DomainEvent[], position: position ? parseLogPosition(position) : null };
}

/**
 * Progress a command job reports when it could not run for want of a
 * dependency (PostgreSQL): it stays queued and runs later, and the caller
 * answers UNAVAILABLE now rather than at its timeout.
 */
export interface DeferralNotice {
  deferred: { code: string; message: string; details: Record<string, unknown> };
}

export function isDeferralNotice(value: unknown): value is DeferralNotice {
  return typeof value === "object" && value !== null && "deferred" in value;
}

/** A command answered before: the first result, marked as such, with nothing appended this time. */
export function asDuplicate(reply: CommandReply): CommandReply {
  return reply.ok ? { ok: true, outcome: { ...reply.outcome, duplicate: true, events: [] } } : reply;
}
