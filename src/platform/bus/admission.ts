import type { Queue } from "bullmq";
import { OverloadedError } from "../core/errors";

export interface AdmissionOptions {
  /** Commands waiting in a service's queue (waiting, delayed, prioritized) past which new ones are refused. 0: no bound. */
  maxQueued: number;
  /** How long a queue's count is trusted before it is read again from Redis. */
  countEveryMs: number;
  /** What a refusal tells the client to wait before resending. */
  retryAfterMs: number;
}

interface Count {
  /** Queued jobs at the last read. */
  queued: number;
  /** Admitted since the last read and not yet answered: not in `queued`, but soon in the queue. */
  admitted: number;
  /** Which read `admitted` counts from. */
  generation: number;
  at: number;
  reading: Promise<void> | null;
}

/** The states of a job that is accepted and not yet taken by a worker. */
const QUEUED_STATES = ["wait", "delayed", "prioritized"] as const;

/**
 * Admission control at the API edge, before enqueue: a service whose queue is
 * past its bound refuses new commands with OVERLOADED (and a retryAfterMs),
 * so that what was accepted runs within its callers' timeouts instead of
 * every command timing out behind an ever longer queue.
 *
 * It costs no Redis round trip per command: a queue's count is read once,
 * then re-read in the background at most every `countEveryMs`, and commands
 * admitted in between and not yet answered are added to it, so a burst
 * between two reads cannot overshoot the bound by more than what other api
 * processes admit, and fast sequential commands are not counted twice.
 */
export class Admission {
  private readonly counts = new Map<string, Count>();

  constructor(
    private readonly options: AdmissionOptions,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * Throws OVERLOADED when `service`'s queue is past the bound; otherwise
   * counts the command in and returns what to call once it is answered (it
   * has then left the queue; if a read came in between, it counted it).
   */
  async admit(service: string, queue: Queue): Promise<() => void> {
    const { maxQueued, countEveryMs, retryAfterMs } = this.options;
    if (maxQueued <= 0) return () => undefined;
    let count = this.counts.get(service);
    if (!count) {
      count = { queued: 0, admitted: 0, generation: 0, at: 0, reading: null };
      this.counts.set(service, count);
    }
    if (count.at === 0) {
      await (count.reading ?? this.read(count, queue)); // the first commands of a service wait for its first count
    } else if (this.now() - count.at >= countEveryMs && !count.reading) {
      void this.read(count, queue);
    }
    const queued = count.queued + count.admitted;
    if (queued >= maxQueued) throw new OverloadedError(service, queued, maxQueued, retryAfterMs);
    count.admitted += 1;
    const { generation } = count;
    const counted = count;
    return () => {
      if (counted.generation === generation) counted.admitted = Math.max(0, counted.admitted - 1);
    };
  }

  private read(count: Count, queue: Queue): Promise<void> {
    count.reading = queue
      .getJobCounts(...QUEUED_STATES)
      .then((counts) => {
        count.queued = QUEUED_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
        count.admitted = 0;
        count.generation += 1;
      })
      // Redis unreachable: the enqueue that follows finds out and takes the other lane; keep the last count.
      .catch(() => undefined)
      .finally(() => {
        count.at = Math.max(1, this.now());
        count.reading = null;
      });
    return count.reading;
  }
}
