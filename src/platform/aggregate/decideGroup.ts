import type { DomainEvent } from "../eventstore/types";
import type { Decider } from "./decider";
import type { CommandContext } from "./command";
import { assertSameCommand, fingerprintOf } from "./idempotency";

/** What one command of a group came to, before the group's append. */
export type Decision<Event> =
  /** Appends these events (at least one). */
  | { kind: "events"; events: Event[] }
  /** Changed nothing: the stream was at `streamVersion` when it was decided. */
  | { kind: "noop"; streamVersion: number }
  /** Refused by the decider (or an idempotency key reused): answered with this error, contributes nothing. */
  | { kind: "refused"; error: unknown }
  /** Resends the command at `index` of this group (same commandId): answered with its result once appended. */
  | { kind: "sameAs"; index: number };

export interface GroupDecision<Event, State> {
  decisions: Decision<Event>[];
  /** The state with every contributing command's events folded in but the last one's (see `unfolded`). */
  state: State;
  /** The last contributor's events: folded only once the append has succeeded, so that a conflict can keep a clean state. */
  unfolded: Event[];
  /** True when `state` was updated in place: after a failed append it is no longer the stream's at the base version. */
  changed: boolean;
}

export interface GroupCommand<Command> {
  command: Command;
  context: CommandContext;
}

/**
 * Decides the commands of a group in order on one state, each seeing what
 * the commands before it produced, as if they had run one after another.
 * Takes `state` over (evolve updates it in place; see Decider.evolve).
 */
export function decideGroup<Command, Event extends DomainEvent, State>(
  decider: Pick<Decider<Command, Event, State>, "decide" | "evolve">,
  state: State,
  version: number,
  commands: readonly GroupCommand<Command>[],
): GroupDecision<Event, State> {
  const decisions: Decision<Event>[] = [];
  const contributorByKey = new Map<string, number>();
  let unfolded: Event[] = [];
  let changed = false;
  let nextVersion = version;
  commands.forEach(({ command, context }, index) => {
    const earlier = contributorByKey.get(context.commandId);
    if (earlier !== undefined) {
      // What a resend after the earlier one's append would get: its result, if it is the same command from the same sender.
      const first = commands[earlier]!;
      try {
        assertSameCommand({ actor: first.context.actor, fingerprint: fingerprintOf(first.command, first.context) }, command, context);
        decisions.push({ kind: "sameAs", index: earlier });
      } catch (error) {
        decisions.push({ kind: "refused", error });
      }
      return;
    }
    for (const event of unfolded) state = decider.evolve(state, event);
    changed ||= unfolded.length > 0;
    unfolded = [];
    let events: Event[];
    try {
      events = decider.decide(command, state);
    } catch (error) {
      decisions.push({ kind: "refused", error });
      return;
    }
    if (events.length === 0) {
      decisions.push({ kind: "noop", streamVersion: nextVersion });
      return;
    }
    nextVersion += events.length;
    contributorByKey.set(context.commandId, index);
    unfolded = events;
    decisions.push({ kind: "events", events });
  });
  return { decisions, state, unfolded, changed };
}
