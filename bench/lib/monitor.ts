import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { z } from "zod";

const scriptsSchema = z.record(z.string(), z.object({ name: z.string(), content: z.string() }));

/** BullMQ's Lua scripts by SHA-1, so that EVALSHA lines can be named (its own module, not a public API: bench only). */
function bullScriptNames(): Map<string, string> {
  const names = new Map<string, string>();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const parsed = scriptsSchema.safeParse(require("bullmq/dist/cjs/scripts"));
    if (parsed.success) for (const { name, content } of Object.values(parsed.data)) names.set(createHash("sha1").update(content).digest("hex"), name);
  } catch {
    // another BullMQ layout: scripts stay unnamed
  }
  return names;
}

/**
 * Top-level commands clients send (one per round trip, pipelining aside) while
 * `work` runs, from MONITOR: what INFO commandstats cannot tell apart from the
 * commands scripts run inside. EVALSHA is named by its BullMQ script.
 */
export async function roundTrips(url: string, work: () => Promise<unknown>, options: { byQueue?: boolean } = {}): Promise<Map<string, number>> {
  const names = bullScriptNames();
  const counts = new Map<string, number>();
  // monitor() opens a connection of its own: the client it came from must be closed as well.
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const monitor = await client.monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (source.startsWith("lua")) return;
    const [command = "?", sha = ""] = args;
    const base = command.toLowerCase() === "evalsha" ? `evalsha ${names.get(sha) ?? sha.slice(0, 8)}` : command.toLowerCase();
    const name = options.byQueue ? `${base}${queueOf(args)}` : base;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  try {
    await work();
    await new Promise((resolve) => setTimeout(resolve, 200)); // what the work set off (a worker's next fetch) shows too
  } finally {
    monitor.disconnect();
    client.disconnect();
  }
  return counts;
}

/** The BullMQ queue a command's keys name (`…{q:<queue>}…`, or `bull:<queue>:` without a hashtag), as ` @queue`. */
function queueOf(args: readonly string[]): string {
  for (const arg of args.slice(1)) {
    const match = /\{q:([^}]+)\}|:bull:([^:{]+):/.exec(arg);
    if (match) return ` @${match[1] ?? match[2]}`;
  }
  return "";
}
