import { Periodic } from "./periodic";

/**
 * A periodic pass, against fake timers: passes are counted by the schedule,
 * not by the machine's speed.
 */
function pass(options: { takesMs?: number; fails?: boolean } = {}) {
  const counted = {
    started: 0,
    errors: [] as unknown[],
    run: async () => {
      counted.started += 1;
      if (options.takesMs) await new Promise((resolve) => setTimeout(resolve, options.takesMs));
      if (options.fails) throw new Error("Redis away");
    },
  };
  return counted;
}

let periodic: Periodic | null = null;

beforeEach(() => jest.useFakeTimers());

afterEach(async () => {
  const stopping = periodic?.stop();
  await jest.advanceTimersByTimeAsync(10_000);
  await stopping;
  periodic = null;
  jest.useRealTimers();
});

describe("Periodic", () => {
  it("given it is started with now, then it passes at once and every everyMs", async () => {
    const p = pass();
    periodic = new Periodic(p.run, 100, (e) => p.errors.push(e));
    periodic.start({ now: true });
    await jest.advanceTimersByTimeAsync(0);
    expect(p.started).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(p.started).toBe(11);
  });

  it("given it is started without now, then the first pass comes after everyMs", async () => {
    const p = pass();
    periodic = new Periodic(p.run, 100, (e) => p.errors.push(e));
    periodic.start({ now: false });
    await jest.advanceTimersByTimeAsync(99);
    expect(p.started).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(p.started).toBe(1);
  });

  it("given a pass slower than everyMs, when ticks come while it runs, then they are skipped, not queued", async () => {
    const p = pass({ takesMs: 350 });
    periodic = new Periodic(p.run, 100, (e) => p.errors.push(e));
    periodic.start({ now: true });
    await jest.advanceTimersByTimeAsync(340);
    expect(p.started).toBe(1);
    // It ends at 350; the tick at 400 starts the next one.
    await jest.advanceTimersByTimeAsync(60);
    expect(p.started).toBe(2);
  });

  it("given a pass that fails, then the error is reported and the next tick tries again", async () => {
    const p = pass({ fails: true });
    periodic = new Periodic(p.run, 100, (e) => p.errors.push(e));
    periodic.start({ now: true });
    await jest.advanceTimersByTimeAsync(250);
    expect(p.started).toBe(3);
    expect(p.errors).toHaveLength(3);
  });

  it("given a pass running, when it is stopped, then stop waits for that pass and no other starts", async () => {
    const p = pass({ takesMs: 300 });
    periodic = new Periodic(p.run, 100, (e) => p.errors.push(e));
    periodic.start({ now: true });
    await jest.advanceTimersByTimeAsync(10);
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(200);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(100);
    await stopping;
    expect(stopped).toBe(true);
    await periodic.tick();
    await jest.advanceTimersByTimeAsync(1000);
    expect(p.started).toBe(1);
  });
});
