import { z } from "zod";
import { DomainError, isTransient, ValidationError } from "../core/errors";

/** A refusal as it crosses a lane: enough to rebuild the DomainError, code and all, on the caller's side. */
export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The reply envelope every lane carries (job return values, inbox rows).
 * Domain refusals are answers, not failures: they end the request (no retry)
 * and are thrown again as DomainErrors where the request was sent.
 */
export type Reply<T> = { ok: true; outcome: T } | { ok: false; error: WireError };

export function okReply<T>(outcome: T): Reply<T> {
  return { ok: true, outcome };
}

export function refusalReply(error: DomainError): Reply<never> {
  return { ok: false, error: { code: error.code, message: error.message, details: { ...error.details } } };
}

/** The outcome of a reply, or its refusal thrown with the code it was refused with. */
export function unwrap<T>(reply: Reply<T>): T {
  if (!reply.ok) throw new DomainError(reply.error.code, reply.error.message, reply.error.details);
  return reply.outcome;
}

/**
 * The serving side of every lane: the handler's result, or its refusal as a
 * reply. Anything else (transient, or not a DomainError) is thrown, for the
 * lane to retry or defer as its transport allows.
 */
export async function answer<T>(run: () => Promise<T>): Promise<Reply<T>> {
  try {
    return okReply(await run());
  } catch (error) {
    if (error instanceof DomainError && !isTransient(error)) return refusalReply(error);
    throw error;
  }
}

const wireError = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) });

/**
 * The parser of replies carrying `outcome`: a reply as a lane hands it over (an object, or its JSON text).
 * Make it once per outcome schema, not per reply: building a zod schema costs more than parsing with it.
 */
export function replyParser<T>(outcome: z.ZodType<T>): (value: unknown) => Reply<T> {
  const schema = z.discriminatedUnion("ok", [
    z.object({ ok: z.literal(true), outcome }),
    z.object({ ok: z.literal(false), error: wireError }),
  ]);
  return (value) => {
    const parsed = parseEnvelope(schema, typeof value === "string" ? safeJson(value) : value, "reply");
    return parsed.ok ? okReply(parsed.outcome) : { ok: false, error: parsed.error };
  };
}

/** What crosses a lane (a job, a request, a reply), parsed, not trusted: VALIDATION naming the field otherwise, never retried. */
export function parseEnvelope<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ValidationError([name, ...issue.path.map(String)].join("."), `a malformed ${name}`, issue.message);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
