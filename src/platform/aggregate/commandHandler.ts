import { isDeepStrictEqual } from "node:util";
import { ConcurrencyError } from "../core/errors";
import type { CommandRecord, EventStore } from "../eventstore/eventStore";
import type { LogPosition } from "../eventstore/logPosition";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";
import { ownedInitialState, type Decider } from "./decider";
import { decideGroup, type GroupCommand } from "./decideGroup";
import { groupAnswers } from "./groupOutcomes";
import { assertSameCommand, fingerprintOf, shownCommandId } from "./idempotency";
import { StateCache, type CachedStream } from "./stateCache";
import { StreamGroups } from "./streamGroups";

import type { CommandContext, CommandOutcome } from "./command";

export type { CommandContext, CommandOutcome };

export interface CommandHandlerOptions {
  /** How many times to reload and decide again after a concurrent write. */
  maxAttempts: number;
  /** Called after a successful append (e.g. to wake projectors). Never awaited on the hot path's result. */
  onAppended?: () => void;
  /**
   * Take a snapshot once this many events have been folded beyond the last one
   * (0: never). Only for deciders with a `stateVersion`.
   */
  snapshotEvery: number;
  /** A snapshot that could not be taken; the command it followed has succeeded regardless. */
  onSnapshotError?: (streamId: string, error: unknown) => void;
  /**
   * Keep the last folded state of this many streams (least recently used goes
   * first), so a command on a hot stream neither reads nor folds it (0: keep none).
   */
  cacheStreams: number;
  /**
   * Group commit: at most this many commands for one stream that queued up
   * while its previous append was in flight are decided in order and
   * appended together, in one statement (1: each command alone).
   */
  maxGroup: number;
}

export const defaultCommandHandlerOptions: CommandHandlerOptions = { maxAttempts: 5, snapshotEvery: 100, cacheStreams: 1000, maxGroup: 64 };

/** A command waiting in its stream's queue, with the caller's promise to settle. */
interface QueuedCommand<Command, Event extends DomainEvent> extends GroupCommand<Command> {
  resolve(outcome: CommandOutcome<Event>): void;
  fail(error: unknown): void;
}

export interface LoadedStream<State> {
  state: State;
  version: number;
  /** The events folded on top of the snapshot (all of them without one). */
  events: RecordedEvent[];
  /** Version of the snapshot the fold started from; 0 when it started from the beginning. */
  snapshotVersion: number;
}

/**
 * Load → fold → decide → append with the expected version. On a concurrent
 * write the whole cycle runs again on fresh state, a bounded number of times.
 */
export class CommandHandler<Command, Event extends DomainEvent, State> {
  private readonly options: CommandHandlerOptions;
  private readonly perStream: StreamGroups<QueuedCommand<Command, Event>>;
  /** Snapshots are tagged with it; null when this handler takes none. */
  readonly snapshotKey: string | null;
  private readonly pendingSnapshots = new Set<Promise<void>>();
  private readonly cache: StateCache<State>;

  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<Command, Event, State>,
    options: Partial<CommandHandlerOptions> = {},
  ) {
    this.options = { ...defaultCommandHandlerOptions, ...options };
    this.cache = new StateCache(this.options.cacheStreams);
    this.perStream = new StreamGroups(this.options.maxGroup, (streamId, group) => this.runGroup(streamId, group));
    // Upcasting makes state depend on the events' current versions too, so a new event version retires old snapshots.
    this.snapshotKey =
      decider.stateVersion && this.options.snapshotEvery > 0
        ? `${decider.stateVersion}/${store.registry?.fingerprint ?? "unversioned"}`
        : null;
  }

  /** The stream's current state: from its snapshot and the events after it when there is one, else from the start. */
  async load(streamId: string): Promise<LoadedStream<State>> {
    if (this.snapshotKey === null) return this.loadFromStart(streamId);
    const { snapshot, events } = await this.store.readStreamFromSnapshot(streamId, this.snapshotKey);
    const state = this.foldOnto(snapshot ? (snapshot.state as State) : ownedInitialState(this.decider), events);
    const snapshotVersion = snapshot?.streamVersion ?? 0;
    return { state, version: events.at(-1)?.streamVersion ?? snapshotVersion, events, snapshotVersion };
  }

  /** Folds every event of the stream, ignoring snapshots: what a snapshot must always equal. */
  async loadFromStart(streamId: string): Promise<LoadedStream<State>> {
    const events = await this.store.readStream(streamId);
    return { state: this.foldOnto(ownedInitialState(this.decider), events), version: events.at(-1)?.streamVersion ?? 0, events, snapshotVersion: 0 };
  }

  /** Replaces the stream's snapshot with one folded from the start; returns its version (0: empty stream). */
  async rebuildSnapshot(streamId: string): Promise<number> {
    if (this.snapshotKey === null) throw new Error("this handler takes no snapshots (no stateVersion, or snapshotEvery is 0)");
    const { state, version } = await this.loadFromStart(streamId);
    if (version > 0) await this.saveSnapshot(streamId, version, state, true);
    return version;
  }

  /** Resolves once every snapshot started so far is written (or has failed). */
  async snapshotsSettled(): Promise<void> {
    while (this.pendingSnapshots.size > 0) await Promise.all(this.pendingSnapshots);
  }

  private foldOnto(state: State, events: readonly RecordedEvent[]): State {
    for (const event of events) state = this.decider.evolve(state, event as unknown as Event);
    return state;
  }

  /** The state a fold of the store gives, owned by the caller (load returns a freshly folded one). */
  private async loadOwned(streamId: string): Promise<CachedStream<State>> {
    const { state, version, snapshotVersion } = await this.load(streamId);
    return { state, version, snapshotVersion };
  }

  /** After a conflict: only the events written since `stale.version`, folded onto its state (decide left it untouched). */
  private async catchUp(streamId: string, stale: CachedStream<State>): Promise<CachedStream<State>> {
    const events = await this.store.readStream(streamId, { fromVersion: stale.version + 1 });
    return { ...stale, state: this.foldOnto(stale.state, events), version: events.at(-1)?.streamVersion ?? stale.version };
  }

  /**
   * After a successful append: folds what was appended onto the state (in
   * place), takes a snapshot when one is due, and caches the result for the
   * stream's next command.
   */
  private advance(streamId: string, current: CachedStream<State>, events: readonly Event[], streamVersion: number): void {
    // The appended events are exactly versions current.version+1..streamVersion, so folding them gives the state at streamVersion.
    if (streamVersion !== current.version + events.length) return; // not what was expected: the next command loads instead
    let state = current.state;
    for (const event of events) state = this.decider.evolve(state, event);
    let snapshotVersion = current.snapshotVersion;
    if (this.snapshotKey !== null && streamVersion - snapshotVersion >= this.options.snapshotEvery) {
      this.snapshotInBackground(streamId, streamVersion, state);
      snapshotVersion = streamVersion;
    }
    this.cache.put(streamId, { state, version: streamVersion, snapshotVersion });
  }

  /** Off the command's path: the caller has its answer before the snapshot is written, and never sees it fail. */
  private snapshotInBackground(streamId: string, streamVersion: number, state: State): void {
    const pending = this.saveSnapshot(streamId, streamVersion, state)
      .catch((error: unknown) => {
        // Forget the cached state, whose snapshot version says "taken": the next command loads the stream and tries again.
        this.cache.take(streamId);
        this.options.onSnapshotError?.(streamId, error);
      })
      .finally(() => this.pendingSnapshots.delete(pending));
    this.pendingSnapshots.add(pending);
  }

  private async saveSnapshot(streamId: string, streamVersion: number, state: State, replace = false): Promise<void> {
    // Copied before the first await: the cached state goes on being updated in place by later commands.
    const json = JSON.stringify(state);
    const copy: unknown = JSON.parse(json);
    // A Map, Set, Date or undefined would come back as something else: refuse rather than cache a different state.
    if (!isDeepStrictEqual(copy, state)) {
      throw new Error(`the state of ${streamId} is not plain JSON, so it cannot be snapshotted`);
    }
    await this.store.snapshots.save(streamId, streamVersion, this.snapshotKey!, copy, replace);
  }

  /**
   * Commands for one stream run one group after another in this process: on
   * a hot stream (a popular product, a busy account) they would otherwise
   * only collide and retry. A command that finds its stream idle runs alone
   * at once; those that queue meanwhile form the next group (see
   * `handleGroup`). Across processes, optimistic concurrency still decides.
   */
  handle(streamId: string, command: Command, context: CommandContext): Promise<CommandOutcome<Event>> {
    return new Promise((resolve, fail) => this.perStream.add(streamId, { command, context, resolve, fail }));
  }

  private async runGroup(streamId: string, group: QueuedCommand<Command, Event>[]): Promise<void> {
    const [only] = group;
    if (group.length === 1 && only) {
      await this.handleNow(streamId, only.command, only.context).then(only.resolve, only.fail);
      return;
    }
    const unsettled = await this.handleGroup(streamId, group);
    // The group's append failed for a reason of its own (an invalid event, PostgreSQL gone): each command alone gets its own answer.
    for (const item of unsettled) await this.handleNow(streamId, item.command, item.context).then(item.resolve, item.fail);
  }

  /**
   * Group commit. The commands are decided in order on the (cached) state,
   * each on what the ones before it produced, and the events of those that
   * produced any are appended in one statement with one expected version,
   * each command's idempotency record in the same transaction. Each command
   * is answered alone: refused ones with their error, resends with the first
   * result. A conflict with another process runs the whole group again on
   * fresh state, within `maxAttempts`. Returns the commands left unanswered
   * because the append failed otherwise.
   */
  private async handleGroup(streamId: string, group: QueuedCommand<Command, Event>[]): Promise<QueuedCommand<Command, Event>[]> {
    let waiting = group;
    let current = this.cache.take(streamId);
    let fromCache = current !== undefined;
    let raced = false;
    for (let attempt = 1; ; ) {
      // Recorded already (a resend, or a racing process won): the first result, if it is the same command from the same sender.
      const recorded = await this.store.findCommandResults(waiting.map((item) => item.context.commandId));
      if (raced && recorded.size === 0) throw new Error(`group append on ${streamId} hit a recorded commandId that cannot be found`);
      raced = false;
      waiting = waiting.filter((item) => {
        const first = recorded.get(item.context.commandId);
        if (!first) return true;
        try {
          assertSameCommand(first, item.command, item.context);
          item.resolve(duplicateOutcome(item.context.commandId, first));
        } catch (error) {
          item.fail(error);
        }
        return false;
      });
      current ??= await this.loadOwned(streamId);
      if (waiting.length === 0) {
        this.cache.put(streamId, current);
        return [];
      }
      const base = current;
      current = undefined; // decideGroup owns the state now
      const decided = decideGroup(this.decider, base.state, base.version, waiting);
      const contributors = waiting.flatMap((item, i) => {
        const decision = decided.decisions[i];
        return decision?.kind === "events" ? [{ item, events: decision.events }] : [];
      });
      // Without a contributor nothing was folded: the state is still the stream's at base.version.
      const undecided: CachedStream<State> | undefined = decided.changed ? undefined : { ...base, state: decided.state };
      try {
        if (contributors.length > 0) {
          const appended = await this.store.appendCommands(
            streamId,
            base.version,
            contributors.map(({ item, events }) => ({
              events: events.map((e) => ({ type: e.type, data: e.data, metadata: eventMetadata(item.context) })),
              commandId: item.context.commandId,
              actor: item.context.actor,
              fingerprint: fingerprintOf(item.command, item.context),
            })),
          );
          if (appended.kind === "duplicate") {
            // One of these commandIds was recorded by a racing process since the check: the next round answers it.
            raced = true;
            current = undecided;
            continue;
          }
          this.options.onAppended?.();
          const last = appended.results.at(-1)!;
          // The version the state is at: base plus every contributor's events but the last one's (advance checks the rest).
          const before = base.version + contributors.reduce((n, c) => n + c.events.length, 0) - decided.unfolded.length;
          this.advance(streamId, { ...base, state: decided.state, version: before }, decided.unfolded, last.streamVersion);
          const answers = groupAnswers(streamId, waiting.map((item) => item.context.commandId), decided.decisions, appended.results);
          waiting.forEach((item, i) => settle(item, answers[i]!));
        } else {
          this.cache.put(streamId, { ...base, state: decided.state });
          const answers = groupAnswers(streamId, waiting.map((item) => item.context.commandId), decided.decisions, []);
          waiting.forEach((item, i) => settle(item, answers[i]!));
        }
        return [];
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) return waiting; // the state is dropped: each command alone loads afresh
        // As for one command: a stale cached state costs no attempt, only conflicts on state just read from the store count.
        if (!fromCache && attempt >= this.options.maxAttempts) {
          const failure = new ConcurrencyError(streamId, base.version, attempt);
          waiting.forEach((item) => item.fail(failure));
          return [];
        }
        if (fromCache) fromCache = false;
        else await jitter(attempt++);
        // A state the decisions folded into is no longer the stream's at any version: load instead of catching up.
        current = undecided ? await this.catchUp(streamId, undecided) : undefined;
      }
    }
  }

  private async handleNow(streamId: string, command: Command, context: CommandContext): Promise<CommandOutcome<Event>> {
    // A resend answers with the first result, but only when it is the same command from the same sender.
    const answerFirst = (first: CommandRecord): CommandOutcome<Event> => {
      assertSameCommand(first, command, context);
      return duplicateOutcome(context.commandId, first);
    };
    const previous = await this.store.findCommandResult(context.commandId);
    if (previous) return answerFirst(previous);

    // The cached state, when there is one, saves reading and folding the stream. It is owned by this call
    // until it is put back; if it is stale, the append's expected version makes that append fail.
    let current = this.cache.take(streamId);
    let fromCache = current !== undefined;
    for (let attempt = 1; ; ) {
      current ??= await this.loadOwned(streamId);
      const { state, version } = current;
      let events: Event[];
      try {
        events = this.decider.decide(command, state);
      } catch (error) {
        this.cache.put(streamId, current); // decide changes nothing: the state is still the stream's at `version`
        throw error;
      }
      if (events.length === 0) {
        this.cache.put(streamId, current);
        return { commandId: context.commandId, streamId, streamVersion: version, position: null, events, eventTypes: [], duplicate: false };
      }
      const metadata = eventMetadata(context);
      try {
        const result = await this.store.append(
          streamId,
          version === 0 ? "no_stream" : version,
          events.map((e) => ({ type: e.type, data: e.data, metadata })),
          { commandId: context.commandId, actor: context.actor, fingerprint: fingerprintOf(command, context) },
        );
        // A duplicate (or any error below) leaves `current` out of the cache: the next command loads the stream afresh.
        if (result.duplicate) {
          const first = await this.store.findCommandResult(context.commandId);
          return first ? answerFirst(first) : duplicateOutcome(context.commandId, result);
        }
        this.options.onAppended?.();
        this.advance(streamId, current, events, result.streamVersion);
        return {
          commandId: context.commandId,
          streamId,
          streamVersion: result.streamVersion,
          position: result.position,
          events,
          eventTypes: result.eventTypes,
          duplicate: false,
        };
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        // A stale cached state costs no attempt: only conflicts on state just read from the store count.
        if (!fromCache && attempt >= this.options.maxAttempts) throw new ConcurrencyError(streamId, version, attempt);
        // A racing duplicate of this same command may have won: answer with its result.
        const winner = await this.store.findCommandResult(context.commandId);
        if (winner) return answerFirst(winner);
        if (fromCache) fromCache = false;
        else await jitter(attempt++);
        current = await this.catchUp(streamId, current);
      }
    }
  }
}

function settle<Event extends DomainEvent>(
  item: { resolve(outcome: CommandOutcome<Event>): void; fail(error: unknown): void },
  answer: { ok: true; outcome: CommandOutcome<Event> } | { ok: false; error: unknown },
): void {
  if (answer.ok) item.resolve(answer.outcome);
  else item.fail(answer.error);
}

/** What every event a command produces carries: who sent it and why. */
function eventMetadata(context: CommandContext): { correlationId: string; causationId: string; commandId: string; actor: string } {
  return {
    correlationId: context.correlationId ?? shownCommandId(context),
    causationId: context.causationId ?? shownCommandId(context),
    commandId: shownCommandId(context),
    actor: context.actor,
  };
}

function duplicateOutcome<Event extends DomainEvent>(
  commandId: string,
  previous: { streamId: string; streamVersion: number; position: LogPosition; eventTypes: string[] },
): CommandOutcome<Event> {
  const { streamId, streamVersion, position, eventTypes } = previous;
  return { commandId, streamId, streamVersion, position, events: [], eventTypes, duplicate: true };
}

/** Spreads retries so that racing writers do not collide again in lockstep. */
function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
