import { formatLogPosition } from "../eventstore/logPosition";
import type { RecordedEvent } from "../eventstore/types";

/** Where a document stands in its stream and in the log; every read model carries it. */
export interface Stamp {
  version: number;
  position: string;
  updatedAt: string;
}

export function stampOf(event: RecordedEvent): Stamp {
  return { version: event.streamVersion, position: formatLogPosition(event.position), updatedAt: event.metadata.recordedAt };
}
