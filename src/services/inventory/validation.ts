import { ValidationError } from "../../platform/errors";

/** Input rules of the Inventory context, shared by every command that takes the field. */
export const limits = {
  maxPriceMinor: 10_000_000_000,
  maxQuantity: 1_000_000,
  maxStock: 1_000_000_000,
} as const;

export function validSku(sku: string): string {
  if (!/^[A-Z0-9][A-Z0-9-]{1,31}$/.test(sku)) {
    throw new ValidationError("sku", sku, "2-32 characters of A-Z, 0-9 and '-', not starting with '-'");
  }
  return sku;
}

export function validName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 120) throw new ValidationError("name", name, "1-120 characters");
  return trimmed;
}

export function validCurrency(currency: string): string {
  if (!/^[A-Z]{3}$/.test(currency)) throw new ValidationError("currency", currency, "an ISO 4217 code like EUR");
  return currency;
}

export function validOrderId(orderId: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(orderId)) {
    throw new ValidationError("orderId", orderId, "1-64 characters of letters, digits, '_', '.', ':' or '-'");
  }
  return orderId;
}

export function validInteger(field: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}
