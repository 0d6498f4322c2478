/**
 * A place in the log in commit order. Global positions alone are not enough:
 * bigserial values are taken at insert time but become visible at commit time,
 * so a lower position can appear after a higher one. Ordering by
 * (transaction id, position) and reading only transactions below the oldest
 * running one gives a reader an order in which nothing can appear behind it.
 */
export interface LogPosition {
  readonly transactionId: bigint;
  readonly globalPosition: bigint;
}

export const LOG_START: LogPosition = { transactionId: 0n, globalPosition: 0n };

export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.globalPosition !== b.globalPosition) return a.globalPosition < b.globalPosition ? -1 : 1;
  return 0;
}

/** Opaque token form, used in Redis checkpoints and in the GraphQL API. */
export function formatLogPosition(p: LogPosition): string {
  return `${p.transactionId}.${p.globalPosition}`;
}

export function parseLogPosition(token: string): LogPosition | null {
  const match = /^(\d{1,20})\.(\d{1,20})$/.exec(token);
  if (!match) return null;
  return { transactionId: BigInt(match[1]!), globalPosition: BigInt(match[2]!) };
}
