/** Names the `hop` benchmark's caller and worker (hopWorker.ts) share. */
export const HOP_TRANSPORTS = ["bullmq", "stream"] as const;
export type HopTransport = (typeof HOP_TRANSPORTS)[number];

export const HOP_QUEUE = "hop";
export const HOP_GROUP = "hop-workers";

export function hopStream(prefix: string): string {
  return `${prefix}:hop:stream`;
}

export function hopReplies(prefix: string): string {
  return `${prefix}:hop:replies`;
}

export function isHopTransport(value: unknown): value is HopTransport {
  return HOP_TRANSPORTS.some((t) => t === value);
}
