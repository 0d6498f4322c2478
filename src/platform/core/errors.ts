/**
 * Every failure a caller can act on is a DomainError with a stable code.
 * The GraphQL edge maps them once (see graphql/errors.ts); nothing else
 * inspects messages.
 *
 * Codes are a documented contract: each has one entry in an error catalogue
 * (errorCatalogue.ts for the platform and the transports, one per service in its
 * errors.ts), and docs/errors.md is generated from the catalogues
 * (`node dist/src/main.js emit-error-docs`). Adding a code is adding its
 * entry: the code constants are derived from the catalogue, and
 * test/errorCatalogue.unit.test.ts fails on any code thrown but not
 * catalogued, and on a stale page.
 */
import { codesOf, platformErrors } from "./errorCatalogue";


export const ErrorCode = codesOf(platformErrors);

export type PlatformErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError<"VALIDATION"> {
  constructor(field: string, value: unknown, expected: string) {
    super(
      ErrorCode.VALIDATION,
      `Invalid ${field}: got ${describe(value)}, expected ${expected}`,
      { field, value: describe(value), expected },
    );
  }
}

export class NotFoundError extends DomainError<"NOT_FOUND"> {
  constructor(what: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${what} '${id}' does not exist`, { what, id });
  }
}

export class ConcurrencyError extends DomainError<"CONCURRENCY_CONFLICT"> {
  constructor(streamId: string, expected: unknown, attempts?: number) {
    super(
      ErrorCode.CONCURRENCY_CONFLICT,
      `Stream '${streamId}' was changed concurrently (expected version ${String(expected)})` +
        (attempts ? ` after ${attempts} attempts` : ""),
      { streamId, expected, ...(attempts ? { attempts } : {}) },
    );
  }
}

/**
 * The message names the dependency only: it reaches clients, and the cause's
 * text (a driver's or database's error) is for the logs, where errorMessage
 * shows it.
 */
export class UnavailableError extends DomainError<"UNAVAILABLE"> {
  constructor(dependency: string, cause: unknown) {
    super(ErrorCode.UNAVAILABLE, `${dependency} is unavailable`, { dependency });
    this.cause = cause;
  }
}

/** A service's queue is past its bound; see Admission (bus/admission.ts). */
export class OverloadedError extends DomainError<"OVERLOADED"> {
  constructor(service: string, queued: number, max: number, retryAfterMs: number) {
    super(
      ErrorCode.OVERLOADED,
      `The ${service} service has ${queued} commands queued (at most ${max}, COMMAND_MAX_QUEUED): this command was not accepted. Resend it after ${retryAfterMs} ms`,
      { service, queued, max, retryAfterMs },
    );
  }
}

export class IdempotencyKeyReusedError extends DomainError<"IDEMPOTENCY_KEY_REUSED"> {
  constructor(commandId: string) {
    super(
      ErrorCode.IDEMPOTENCY_KEY_REUSED,
      `commandId '${commandId}' was already used for another command (another type, target or payload); ` +
        "resend a command with the same commandId only unchanged, and give a new command a new commandId",
      { commandId },
    );
  }
}

export class ResumeWindowExceededError extends DomainError<"RESUME_WINDOW_EXCEEDED"> {
  constructor(after: string, oldest: string) {
    super(
      ErrorCode.RESUME_WINDOW_EXCEEDED,
      `Cannot resume after ${after}: changes are kept from ${oldest} on. Refetch the current state, then subscribe with after: "${oldest}" or a later position`,
      { after, oldest },
    );
  }
}

/** Errors worth retrying: the same request may succeed later. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof DomainError)) return true;
  return (
    error.code === ErrorCode.UNAVAILABLE ||
    error.code === ErrorCode.CONCURRENCY_CONFLICT ||
    error.code === ErrorCode.COMMAND_TIMEOUT ||
    error.code === ErrorCode.OVERLOADED
  );
}

/** For logs: the message, and the cause an UnavailableError keeps out of its client-facing message. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error instanceof UnavailableError && error.cause !== undefined ? `${error.message}: ${errorMessage(error.cause)}` : error.message;
}

function describe(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  return String(value);
}
