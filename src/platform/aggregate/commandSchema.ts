import { z } from "zod";
import { ValidationError } from "../core/errors";
import { validObject } from "./validation";

/**
 * Command schemas: one per command, in the service that owns it, parsed at the
 * API edge (before anything is queued) and again where the service takes the
 * command off a queue or inbox (a forged or stale job). A refusal is a
 * VALIDATION error naming the field, never retried. Each field reuses a
 * validator of platform/aggregate/validation.ts, so a rule is written once and says the
 * same thing wherever it is checked, the decider included.
 */

/** A field checked by one of the shared validators (which throw ValidationError); its `expected` becomes the issue's message. */
export function checked<T>(validate: (value: unknown) => T) {
  return z.unknown().transform((value, ctx): T => {
    try {
      return validate(value);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      ctx.addIssue({ code: "custom", message: String(error.details.expected), input: value, params: { refusal: error } });
      return z.NEVER;
    }
  });
}

/** One command: its `type` and fields, nothing else (an unknown field is refused, not carried along). */
export function commandShape<Type extends string, Shape extends z.ZodRawShape>(type: Type, shape: Shape) {
  return z.strictObject({ type: z.literal(type), ...shape });
}

type CommandSchema = z.ZodType<{ type: string }>;

/** Parses a command against its service's schemas; VALIDATION naming the field otherwise. */
export function parseCommand<S extends CommandSchema>(schemas: Readonly<Record<string, S>>, command: unknown): z.output<S> {
  const { type } = validObject("command", command);
  const schema = typeof type === "string" && Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) throw new ValidationError("type", type, `one of ${Object.keys(schemas).join(", ")}`);
  const result = schema.safeParse(command);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  // A validator that names a field inside this one (validLines: "lines[2].sku") is more precise than the path.
  const refusal: unknown = issue.code === "custom" ? issue.params?.refusal : undefined;
  if (refusal instanceof ValidationError && path && String(refusal.details.field).startsWith(`${path}[`)) throw refusal;
  if (issue.code === "unrecognized_keys") {
    throw new ValidationError(path || "command", issue.keys.join(", "), `no fields but ${Object.keys(shapeOf(schema)).join(", ")}`);
  }
  throw new ValidationError(path || "command", valueAt(command, issue.path), issue.message);
}

function shapeOf(schema: CommandSchema): Record<string, unknown> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, unknown>) : {};
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
