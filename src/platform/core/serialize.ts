/**
 * Runs work one piece at a time per key, in arrival order, within this
 * process. A failure settles only its own piece; the next one still runs.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(work, work);
    const settled = run.catch(() => undefined);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key); // keep the map as small as the work in flight
    });
    return run;
  }
}
