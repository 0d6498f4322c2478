import { ValidationError } from "../core/errors";

/**
 * Generic input checks shared by the bounded contexts. Each takes `unknown`, because commands also
 * arrive over job queues as untyped JSON: a value of the wrong runtime type is a VALIDATION error
 * naming the field, never a TypeError and never coerced (a regex would happily test `123` as "123").
 */

const idPattern = /^[A-Za-z0-9_.:-]{1,64}$/;
const skuPattern = /^[A-Z0-9][A-Z0-9-]{1,31}$/;
// PostgreSQL's jsonb refuses both: let through, they failed every retry as UNAVAILABLE with the database's text.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function validObject(field: string, value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError(field, value, "an object");
  }
  return value as Readonly<Record<string, unknown>>;
}

/** A string that can be stored: no NUL character and no unpaired UTF-16 surrogate, whatever else the field allows. */
export function validString(field: string, value: unknown, expected = "a string"): string {
  if (typeof value !== "string") throw new ValidationError(field, value, expected);
  if (unstorable.test(value)) throw new ValidationError(field, value, `${expected}, without NUL characters or unpaired UTF-16 surrogates`);
  return value;
}

/** A product's SKU (the Inventory stream key, which orders name too): 2-32 of A-Z, 0-9 and '-'. */
export function validSku(field: string, value: unknown): string {
  const expected = "2-32 characters of A-Z, 0-9 and '-', not starting with '-'";
  const sku = validString(field, value, expected);
  if (!skuPattern.test(sku)) throw new ValidationError(field, value, expected);
  return sku;
}

/** An ISO 4217 currency code. */
export function validCurrency(field: string, value: unknown): string {
  const expected = "an ISO 4217 code like EUR";
  const code = validString(field, value, expected);
  if (!/^[A-Z]{3}$/.test(code)) throw new ValidationError(field, value, expected);
  return code;
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
 * The `default` of an exhaustive `switch` over a command union: like `assertNever`, a missing case is a
 * compile error, but a command type that only exists at runtime (a stale or forged job) is a VALIDATION error.
 */
export function unknownCommandType(command: never, known: readonly string[]): never {
  const value: unknown = command;
  const type = typeof value === "object" && value !== null ? ("type" in value ? value.type : undefined) : value;
  throw new ValidationError("type", type, `one of ${known.join(", ")}`);
}
