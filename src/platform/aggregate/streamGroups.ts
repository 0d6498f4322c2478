/** Something waiting for its turn; told of a failure nobody else reported. */
export interface Waiting {
  fail(error: unknown): void;
}

/**
 * Group commit's queue: work for one key runs one group at a time, in
 * arrival order, and a group is whatever queued up for that key while the
 * previous group ran (at most `maxGroup`). There is no timer: an item that
 * finds its key idle starts at once, alone, so a group costs no latency at
 * low load and grows only with the load.
 */
export class StreamGroups<Item extends Waiting> {
  private readonly queues = new Map<string, Item[]>();

  constructor(
    private readonly maxGroup: number,
    /** Settles every item of the group; a rejection fails those it left unsettled. */
    private readonly runGroup: (key: string, items: Item[]) => Promise<void>,
  ) {}

  add(key: string, item: Item): void {
    const queue = this.queues.get(key);
    if (queue) {
      queue.push(item);
      return;
    }
    const started = [item];
    this.queues.set(key, started);
    void this.drain(key, started);
  }

  private async drain(key: string, queue: Item[]): Promise<void> {
    while (queue.length > 0) {
      const group = queue.splice(0, Math.max(1, this.maxGroup));
      // Settling a promise twice is a no-op, so failing the whole group reaches only the items still waiting.
      await this.runGroup(key, group).catch((error: unknown) => group.forEach((item) => item.fail(error)));
    }
    this.queues.delete(key); // same tick as the last length check: nothing can have been queued in between
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.queues.size;
  }
}
