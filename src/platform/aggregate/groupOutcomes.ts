import type { LogPosition } from "../eventstore/logPosition";
import type { AppendResult, DomainEvent } from "../eventstore/types";
import type { CommandOutcome } from "./command";
import type { Decision } from "./decideGroup";

/** A command's answer: its outcome, or the error it is refused with. */
export type Answer<Event extends DomainEvent> = { ok: true; outcome: CommandOutcome<Event> } | { ok: false; error: unknown };

/**
 * Each command's answer once its group is appended: `results` holds one
 * append result per contributing command, in the order of `decisions`.
 */
export function groupAnswers<Event extends DomainEvent>(
  streamId: string,
  commandIds: readonly string[],
  decisions: readonly Decision<Event>[],
  results: readonly AppendResult[],
): Answer<Event>[] {
  const resultAt = new Map<number, AppendResult>();
  let next = 0;
  decisions.forEach((decision, index) => {
    if (decision.kind === "events") resultAt.set(index, results[next++]!);
  });
  return decisions.map((decision, index): Answer<Event> => {
    const commandId = commandIds[index]!;
    switch (decision.kind) {
      case "refused":
        return { ok: false, error: decision.error };
      case "noop":
        return { ok: true, outcome: { commandId, streamId, streamVersion: decision.streamVersion, position: null, events: [], eventTypes: [], duplicate: false } };
      case "events": {
        const { streamVersion, position } = resultAt.get(index)!;
        const eventTypes = decision.events.map((e) => e.type);
        return { ok: true, outcome: { commandId, streamId, streamVersion, position, events: decision.events, eventTypes, duplicate: false } };
      }
      case "sameAs": {
        const first = decisions[decision.index];
        const { streamVersion, position } = resultAt.get(decision.index)!;
        const eventTypes = first?.kind === "events" ? first.events.map((e) => e.type) : [];
        return { ok: true, outcome: { commandId, streamId, streamVersion, position, events: [], eventTypes, duplicate: true } };
      }
    }
  });
}

/** The answer to a command that had already run: what its first run appended, nothing appended now. */
export function duplicateOutcome<Event extends DomainEvent>(
  commandId: string,
  previous: { streamId: string; streamVersion: number; position: LogPosition; eventTypes: string[] },
): CommandOutcome<Event> {
  const { streamId, streamVersion, position, eventTypes } = previous;
  return { commandId, streamId, streamVersion, position, events: [], eventTypes, duplicate: true };
}
