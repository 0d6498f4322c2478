import { validInteger } from "../../platform/aggregate/validation";

/** Input rules of the Payments context (decision 0001). */
export const limits = {
  maxAmountMinor: 10_000_000_000,
  /** available + held + captured never exceeds this, so every balance stays an exact integer. */
  maxBalanceMinor: Number.MAX_SAFE_INTEGER,
  maxReasonLength: 500,
} as const;

/** 1-10^10 minor units; `min` 0 only for an opening balance. */
export function validAmount(field: string, value: unknown, min: 0 | 1 = 1): number {
  return validInteger(field, value, min, limits.maxAmountMinor);
}
