import { readFileSync } from "node:fs";

/**
 * CPU time (user + system, ms) of processes by pid, from /proc: where several
 * role processes share the cores, CPU per operation shows what overload costs
 * even when throughput hides it. 0 for a pid that is gone or off Linux.
 */
export function cpuMsOf(pids: ReadonlyArray<number | undefined>): number {
  let total = 0;
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
    } catch {
      // not Linux, or the process has exited
    }
  }
  return total;
}

/** USER_HZ: 100 on every Linux this runs on (sysconf is not reachable from Node). */
const TICKS_PER_SECOND = 100;
