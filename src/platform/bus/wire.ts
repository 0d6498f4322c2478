import { z } from "zod";
import type { CommandContext, CommandOutcome } from "../aggregate/commandHandler";
import { formatLogPosition, parseLogPosition } from "../eventstore/logPosition";
import { shownCommandId } from "../aggregate/idempotency";
import { parseEnvelope, type Reply, replyParser, unwrap } from "./reply";
import { RequestTimeoutError } from "./requestReply";

/** What travels in a command job. */
export interface CommandJob {
  command: unknown;
  context: CommandContext;
  /** The sender's reply channel (see replyChannel.ts); absent from senders that hear replies through QueueEvents. */
  replyTo?: string;
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
  replyTo: text(200).optional(),
});

/**
 * A job as the owning service takes it off its queue: parsed, not trusted. The
 * command itself is parsed by the service's executor against its schemas.
 */
export function parseCommandJob(data: unknown): CommandJob {
  return parseEnvelope(jobSchema, data, "job");
}

/** What a command job returns: the reply envelope of every lane (see reply.ts) around a command's outcome. */
export type CommandReply = Reply<WireOutcome>;

export interface WireOutcome extends Omit<CommandOutcome, "position"> {
  position: string | null;
}

// Loose: fields a handler adds (an event's id and metadata, say) cross the lane as they always have.
const wireOutcome: z.ZodType<WireOutcome> = z.looseObject({
  commandId: z.string(),
  streamId: z.string(),
  streamVersion: z.number(),
  position: z.string().nullable(),
  events: z.array(z.looseObject({ type: z.string(), data: z.unknown() })),
  eventTypes: z.array(z.string()),
  duplicate: z.boolean(),
});

export function toWireOutcome(outcome: CommandOutcome): WireOutcome {
  return { ...outcome, position: outcome.position ? formatLogPosition(outcome.position) : null };
}

/** Every command's reply is parsed here (the api and the saga runner hear one per command). */
export const parseCommandReply: (value: unknown) => CommandReply = replyParser(wireOutcome);

export function fromReply(reply: CommandReply): CommandOutcome {
  const { position, ...rest } = unwrap(reply);
  return { ...rest, position: position ? parseLogPosition(position) : null };
}

/** A command lane's COMMAND_TIMEOUT: the command stays where it is (`stays`), and a resend gets its result. */
export function commandTimedOut(service: string, timeoutMs: number, context: CommandContext, stays: string): RequestTimeoutError {
  const commandId = shownCommandId(context);
  return new RequestTimeoutError(
    `The ${service} service did not answer within ${timeoutMs} ms. The command ${stays} and will run when the service ` +
      `is back; resend it with the same commandId (${commandId}) to get its result.`,
    { service, commandId, timeoutMs },
  );
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
