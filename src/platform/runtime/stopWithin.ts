/** What a bounded stop came to: done in time, or overrun, naming the part it was still waiting on. */
export type StopOutcome = { finished: true } | { finished: false; waitingOn: string | null };

/**
 * Runs `stop` for at most `withinMs`. A graceful stop that hangs (a connection
 * waiting on a Redis node that is gone, a job that never settles) must not keep
 * the process alive past its orchestrator's patience: the caller exits anyway
 * and says what it was waiting on. A stop that fails is the caller's to report.
 */
export async function stopWithin(stop: () => Promise<void>, withinMs: number, waitingOn: () => string | null): Promise<StopOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), withinMs);
  });
  try {
    const result = await Promise.race([stop().then(() => "done" as const), late]);
    return result === "done" ? { finished: true } : { finished: false, waitingOn: waitingOn() };
  } finally {
    clearTimeout(timer);
  }
}
