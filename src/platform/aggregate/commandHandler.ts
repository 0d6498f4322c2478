import { isDeepStrictEqual } from "node:util";
import { ConcurrencyError } from "../errors";
import { KeyedSerializer } from "../serialize";
import type { CommandRecord, EventStore } from "../eventstore/eventStore";
import type { LogPosition } from "../eventstore/logPosition";
import type { DomainEvent, RecordedEvent } from "../eventstore/types";
import { ownedInitialState, type Decider } from "./decider";
import { assertSameCommand, fingerprintOf, shownCommandId } from "./idempotency";
import { StateCache, type CachedStream } from "./stateCache";

/** Who sent a command and why; copied into every event it produces. */
export interface CommandContext {
  /** The idempotency key: for a client's command, its commandId scoped to the actor (see idempotency.ts). */
  commandId: string;
  /** The commandId as the client sent it, shown back in replies, logs and event metadata; absent for internal commands. */
  clientCommandId?: string;
  correlationId?: string;
  causationId?: string;
  actor: string;
  /** Hash of the command as its sender stated it; absent: the command's own (see idempotency.ts). */
  fingerprint?: string;
}

export interface CommandOutcome<Event extends DomainEvent = DomainEvent> {
  commandId: string;
  streamId: string;
  streamVersion: number;
  /** Position of the last event written, or null when the command changed nothing. */
  position: LogPosition | null;
  /** The events this call appended (empty for a duplicate or a no-op). */
  events: Event[];
  /** Types of the events the command produced, also for a duplicate: what its first run appended. */
  eventTypes: string[];
  /** True when the command had already been applied: nothing was appended this time. */
  duplicate: boolean;
}

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
}

export const defaultCommandHandlerOptions: CommandHandlerOptions = { maxAttempts: 5, snapshotEvery: 100, cacheStreams: 1000 };

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
  private readonly perStream = new KeyedSerializer();
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
   * Commands for one stream run one after another in this process: on a hot
   * stream (a popular product, a busy account) they would otherwise only
   * collide and retry. Across processes, optimistic concurrency still decides.
   */
  handle(streamId: string, command: Command, context: CommandContext): Promise<CommandOutcome<Event>> {
    return this.perStream.run(streamId, () => this.handleNow(streamId, command, context));
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
      const metadata = {
        correlationId: context.correlationId ?? shownCommandId(context),
        causationId: context.causationId ?? shownCommandId(context),
        commandId: shownCommandId(context),
        actor: context.actor,
      };
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
