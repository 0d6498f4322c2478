import { formatLogPosition, type LogPosition } from "../eventstore/logPosition";
import type { ReadAllResult } from "../eventstore/types";

/** Reads kept for steps that began before them; older ones can serve no later step. */
const KEPT_READS = 16;

/** When a step began, as `SharedLogReads.mark` tells it. */
export type StepMark = number;

/**
 * One log read for the processors of a process that ask for the same batch
 * (the projections one append woke, or every projection on a catch-up tick):
 * the first asks PostgreSQL, the others take its answer.
 *
 * A step takes only a read that began after the step did. Whatever woke the
 * step was committed before it began, so such a read sees it; an older read
 * might not, and the step, finding itself at the head, would stop short. The
 * answers are shared objects: a processor must not change the events it reads.
 */
export class SharedLogReads {
  private clock = 0;
  private readonly reads = new Map<string, { startedAt: number; result: Promise<ReadAllResult> }>();

  constructor(private readonly read: (from: LogPosition, limit: number) => Promise<ReadAllResult>) {}

  /** Call when a step begins, before it reads anything. */
  mark(): StepMark {
    return this.clock;
  }

  /** The batch after `from`, from a read that began after `since`, or a new read. */
  readAll(from: LogPosition, limit: number, since: StepMark): Promise<ReadAllResult> {
    const key = `${formatLogPosition(from)}/${limit}`;
    const kept = this.reads.get(key);
    if (kept && kept.startedAt > since) return kept.result;
    const entry = { startedAt: ++this.clock, result: this.read(from, limit) };
    // A failed read is not kept: the next step reads again.
    entry.result.catch(() => {
      if (this.reads.get(key) === entry) this.reads.delete(key);
    });
    this.reads.delete(key); // re-inserted last: the map's order is the reads' age
    this.reads.set(key, entry);
    for (const old of this.reads.keys()) {
      if (this.reads.size <= KEPT_READS) break;
      this.reads.delete(old);
    }
    return entry.result;
  }
}
