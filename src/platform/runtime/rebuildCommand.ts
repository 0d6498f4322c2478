import { Presets, SingleBar } from "cli-progress";
import type { Config } from "../../config";
import { ConfigError } from "../../config";
import { createTransactionalRedis } from "../core/redis";
import { redisTarget } from "./redisTarget";
import { DomainError } from "../core/errors";
import { EventStore } from "../eventstore/eventStore";
import { createPool } from "../eventstore/pool";
import { ReadModelKeys } from "../projection/keys";
import { Rebuild } from "../projection/rebuild";
import type { DocumentProjection } from "../projection/types";

export const REBUILD_USAGE = "rebuild <projection>  rebuild one read model from the log (blue/green), with a progress bar";

/**
 * `eventline rebuild <projection>`: the same blue/green rebuild the admin API
 * starts, run in this process against DATABASE_URL and REDIS_URL while the
 * system keeps serving. Ctrl-C stops it and leaves the old generation active.
 * Returns the process exit code.
 */
export async function rebuildCommand(
  args: readonly string[],
  config: Config,
  projections: readonly DocumentProjection<unknown>[],
  out: { log(line: string): void; error(line: string): void } = console,
): Promise<number> {
  const names = projections.map((p) => p.name);
  const projection = projections.find((p) => p.name === args[0]);
  if (!projection) {
    out.error(`usage: eventline ${REBUILD_USAGE}\n  projections: ${names.join(", ")}${args[0] ? `\n  no projection named '${args[0]}'` : ""}`);
    return 2;
  }
  const target = redisTarget(config);
  if (!config.DATABASE_URL || !target) {
    throw new ConfigError("'rebuild' needs DATABASE_URL and REDIS_URL (or REDIS_CLUSTER_NODES): the database and Redis of the running system");
  }
  const pool = createPool(config.DATABASE_URL, { max: 2 });
  const redis = await createTransactionalRedis(target); // the rebuild switches generations with WATCH/MULTI
  const bar = new SingleBar(
    { format: `${projection.name} [{bar}] {percentage}% | {value}/{total} events | {phase}`, noTTYOutput: true, notTTYSchedule: 1000 },
    Presets.shades_classic,
  );
  let rebuild: Rebuild<unknown> | null = null;
  const interrupt = () => rebuild?.abort();
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  try {
    rebuild = await Rebuild.start(redis, new EventStore(pool), new ReadModelKeys(config.EVENTLINE_PREFIX), projection, {
      batchSize: config.PROJECTOR_BATCH_SIZE,
      maxEventAttempts: config.PROJECTOR_MAX_EVENT_ATTEMPTS,
      lockTtlMs: 30_000,
      by: `cli:${process.env.USER ?? "unknown"}`,
      onProgress: (p) => {
        if (!bar.isActive) bar.start(Math.max(p.total, p.applied), 0, { phase: p.phase });
        bar.setTotal(Math.max(p.total, p.applied));
        bar.update(p.applied, { phase: p.phase });
      },
    });
    out.log(`rebuilding ${projection.name} into generation ${rebuild.generation}; generation ${rebuild.state.fromGeneration} serves meanwhile`);
    const result = await rebuild.run();
    bar.stop();
    out.log(`rebuilt ${projection.name}: generation ${result.generation} active after ${result.applied} events; generation ${result.fromGeneration} removed`);
    return 0;
  } catch (error) {
    bar.stop();
    if (error instanceof DomainError) {
      out.error(`eventline: ${error.message} (${error.code})`);
      return 1;
    }
    out.error(`eventline: rebuild of ${projection.name} failed, the old generation stays active: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await redis.quit().catch(() => redis.disconnect());
    await pool.end();
  }
}
