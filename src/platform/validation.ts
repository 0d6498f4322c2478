import { ValidationError } from "./errors";

/**
 * Generic input checks shared by the bounded contexts. Each takes `unknown`, because commands also
 * arrive over job queues as untyped JSON: a value of the wrong runtime type is a VALIDATION error
 * naming the field, never a TypeError and never coerced (a regex would happily test `123` as "123").
 */

const idPattern = /^[A-Za-z0-9_.:-]{1,64}$/;

export function validObject(field: string, value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError(field, value, "an object");
  }
  return value as Readonly<Record<string, unknown>>;
}

export function validString(field: string, value: unknown, expected = "a string"): string {
  if (typeof value !== "string") throw new ValidationError(field, value, expected);
  return value;
}

/** An identifier such as an order or customer id: 1-64 of letters, digits, '_', '.', ':' or '-'. */
export function validId(field: string, value: unknown): string {
  const expected = "1-64 characters of letters, digits, '_', '.', ':' or '-'";
  const id = validString(field, value, expected);
  if (!idPattern.test(id)) throw new ValidationError(field, value, expected);
  return id;
}

/** A safe integer from `min` to `max`, both inclusive; a numeric string is not a number. */
export function validInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** Free text such as a reason: trimmed, then 1 to `maxLength` characters. */
export function validText(field: string, value: unknown, maxLength: number): string {
  const expected = `1-${maxLength} characters of text`;
  const text = validString(field, value, expected).trim();
  if (text.length < 1 || text.length > maxLength) throw new ValidationError(field, value, expected);
  return text;
}

export function validArray(field: string, value: unknown, min: number, max: number): readonly unknown[] {
  const expected = `a list of ${min} to ${max} items`;
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    throw new ValidationError(field, value, expected);
  }
  return value;
}

/**
 * Runs a validator written for a top-level field (e.g. inventory's `validSku`) and reports its refusal
 * under a nested path instead (e.g. "lines[2].sku"), keeping the rule itself in one place.
 */
export function asField<T>(field: string, value: unknown, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof ValidationError && typeof error.details.expected === "string") {
      throw new ValidationError(field, value, error.details.expected);
    }
    throw error;
  }
}

/**
 * The `default` of an exhaustive `switch` over a command union: like `assertNever`, a missing case is a
 * compile error, but a command type that only exists at runtime (a stale or forged job) is a VALIDATION error.
 */
export function unknownCommandType(command: never, known: readonly string[]): never {
  const type: unknown = typeof command === "object" && command !== null ? (command as { type?: unknown }).type : command;
  throw new ValidationError("type", type, `one of ${known.join(", ")}`);
}
