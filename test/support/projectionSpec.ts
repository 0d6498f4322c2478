import type { DomainEvent, RecordedEvent } from "../../src/platform/eventstore/types";
import type { DocumentProjection } from "../../src/platform/projection/types";

/** Second `n` of a fixed test day: event `n`'s recordedAt. */
export const at = (n: number): string => `2030-01-01T00:00:${String(n).padStart(2, "0")}.000Z`;

/** Event `n` of a test log, as the store would hand it to a projection: global position `n`, transaction 100 + n. */
export function recordedEvent(event: DomainEvent, n: number, stream: { id: string; version?: number }): RecordedEvent {
  return {
    eventId: `e-${n}`,
    streamId: stream.id,
    streamVersion: stream.version ?? n,
    globalPosition: BigInt(n),
    position: { transactionId: BigInt(100 + n), globalPosition: BigInt(n) },
    type: event.type,
    schemaVersion: 1,
    data: event.data,
    metadata: { correlationId: "k", causationId: "k", actor: "test", recordedAt: at(n) },
  };
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Folds recorded events into one document with every input and intermediate
 * document frozen: evolve must build new documents, never mutate them.
 */
export function foldFrozen<Doc>(projection: DocumentProjection<Doc>, events: readonly RecordedEvent[], from: Doc | null = null): Doc | null {
  return events.reduce<Doc | null>((doc, e) => projection.evolve(deepFreeze(doc), deepFreeze(e), projection.documentIds(e)[0]!), from);
}
