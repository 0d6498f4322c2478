import { ValidationError } from "../core/errors";

/**
 * Global object identification (the Relay convention): every entity has an
 * `id` unique across the whole API, so that any GraphQL cache can normalize it
 * without knowing our types, and `node(id:)` can fetch it back.
 *
 * The format is readable on purpose: `<Type>:<key>`, e.g. `Product:TEA-001`,
 * `Order:order-42`, `Account:ada`. The type never contains ':'; the key is
 * everything after the first ':' (order ids may contain ':' themselves).
 * Clients should treat ids as opaque; that they can be read in a log or typed
 * into GraphiQL is a convenience, not a contract (see docs/decisions).
 */
export function globalId(typename: string, key: string): string {
  return `${typename}:${key}`;
}

export interface ParsedGlobalId {
  typename: string;
  key: string;
}

/** Longest key of any entity (ReadModelStore's limit); a longer id cannot name anything. */
const MAX_KEY_LENGTH = 256;
const EXPECTED = "a global id '<Type>:<key>' as returned in an entity's `id`, e.g. 'Product:TEA-001'";

/** Splits a global id; VALIDATION (naming `field` and the known types) when it is not one of ours. */
export function parseGlobalId(id: string, knownTypes: readonly string[], field = "id"): ParsedGlobalId {
  const separator = id.indexOf(":");
  const typename = separator > 0 ? id.slice(0, separator) : "";
  const key = separator > 0 ? id.slice(separator + 1) : "";
  // Control characters never occur in our keys; refusing them keeps ids printable in errors and logs.
  if (!typename || !key || key.length > MAX_KEY_LENGTH || hasControlCharacter(key)) {
    throw new ValidationError(field, id, EXPECTED);
  }
  if (!knownTypes.includes(typename)) {
    throw new ValidationError(field, id, `a global id of one of the types ${knownTypes.join(", ")}, e.g. 'Product:TEA-001'`);
  }
  return { typename, key };
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
