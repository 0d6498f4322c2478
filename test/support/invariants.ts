import type { RedisClient } from "../../src/platform/core/redis";
import { scanKeys } from "../../src/platform/core/redisScan";
import { FIRST_GENERATION, parseGeneration, ReadModelKeys } from "../../src/platform/projection/keys";
import { projectGeneration } from "../../src/platform/projection/rebuild";
import { allProjections } from "../../src/platform/runtime/app";
import { liveWorkers } from "../../src/platform/bus/workerRecovery";
import { services } from "../../src/registry";
import { snapshotGeneration } from "./readModelSnapshot";
import type { TestDatabase } from "./testEnv";

const eventsOf = async (db: TestDatabase, types: string[]) =>
  (await db.pool.query<{ type: string; data: Record<string, unknown> }>("SELECT type, data FROM events WHERE type = ANY($1) ORDER BY global_position", [types])).rows;

/** Per SKU: available + reserved + shipped = initial stock + restocks, folded from the log. */
export async function stockConservation(db: TestDatabase): Promise<Array<{ sku: string; problem: string }>> {
  const problems: Array<{ sku: string; problem: string }> = [];
  const totals = new Map<string, { supplied: number; available: number; reserved: number; committed: number }>();
  const get = (sku: string) => totals.get(sku) ?? totals.set(sku, { supplied: 0, available: 0, reserved: 0, committed: 0 }).get(sku)!;
  for (const { type, data } of await eventsOf(db, ["ProductDefined", "StockRestocked", "StockReserved", "StockReservationReleased", "StockReservationCommitted"])) {
    const t = get(data.sku as string);
    const q = (type === "ProductDefined" ? data.initialStock : data.quantity) as number;
    if (type === "ProductDefined" || type === "StockRestocked") move(t, { supplied: q, available: q });
    if (type === "StockReserved") move(t, { available: -q, reserved: q });
    if (type === "StockReservationReleased") move(t, { available: q, reserved: -q });
    if (type === "StockReservationCommitted") move(t, { reserved: -q, committed: q });
  }
  for (const [sku, t] of totals) {
    if (t.available < 0 || t.reserved < 0) problems.push({ sku, problem: `negative stock ${JSON.stringify(t)}` });
    if (t.available + t.reserved + t.committed !== t.supplied) problems.push({ sku, problem: `not conserved ${JSON.stringify(t)}` });
  }
  return problems;
}

/** Money: the sum over accounts of available + held + captured equals what was put in. */
export async function moneyConservation(db: TestDatabase): Promise<{ putIn: number; accounted: number; negative: boolean }> {
  let putIn = 0;
  const accounts = new Map<string, { available: number; held: number; captured: number }>();
  const get = (id: string) => accounts.get(id) ?? accounts.set(id, { available: 0, held: 0, captured: 0 }).get(id)!;
  for (const { type, data } of await eventsOf(db, ["AccountOpened", "FundsAdded", "PaymentAuthorized", "PaymentCaptured", "PaymentVoided", "PaymentRefunded"])) {
    const a = get(data.customerId as string);
    const amount = (type === "AccountOpened" ? data.initialBalanceMinor : data.amountMinor) as number;
    if (type === "AccountOpened" || type === "FundsAdded") {
      putIn += amount;
      move(a, { available: amount });
    }
    if (type === "PaymentAuthorized") move(a, { available: -amount, held: amount });
    if (type === "PaymentCaptured") move(a, { held: -amount, captured: amount });
    if (type === "PaymentVoided") move(a, { held: -amount, available: amount });
    if (type === "PaymentRefunded") move(a, { captured: -amount, available: amount });
  }
  const all = [...accounts.values()];
  return {
    putIn,
    accounted: all.reduce((sum, a) => sum + a.available + a.held + a.captured, 0),
    negative: all.some((a) => a.available < 0 || a.held < 0 || a.captured < 0),
  };
}

/** Every live read model equals a projection of the whole log computed from scratch; names the ones that differ, and where. */
export async function readModelsMatchLog(db: TestDatabase, redis: RedisClient, prefix: string): Promise<string[]> {
  const keys = new ReadModelKeys(prefix);
  const mismatches: string[] = [];
  for (const projection of allProjections(services)) {
    const scratch = FIRST_GENERATION + 1000;
    const active = async () => parseGeneration(await redis.get(keys.activeGeneration(projection.name)));
    const checkpointOf = async (generation: number) => redis.get(keys.generation(projection.name, generation).checkpoint);
    // The live projector runs on its own schedule, and the log may still grow: compare once both stand at the same place.
    const deadline = Date.now() + 15_000;
    let target: string | null = null;
    for (;;) {
      await projectGeneration(redis, db.store, keys, projection, scratch);
      target = await checkpointOf(scratch);
      if ((await checkpointOf(await active())) === target || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const [live, fromScratch] = await Promise.all([
      snapshotGeneration(redis, keys, projection.name, await active()),
      snapshotGeneration(redis, keys, projection.name, scratch),
    ]);
    const differing = Object.keys({ ...live.docs, ...fromScratch.docs }).filter(
      (id) => JSON.stringify(sorted(live.docs[id])) !== JSON.stringify(sorted(fromScratch.docs[id])),
    );
    const indexes = JSON.stringify(sorted(live.indexes)) === JSON.stringify(sorted(fromScratch.indexes));
    if (differing.length || !indexes) {
      const first = differing[0];
      const where = first
        ? `${differing.length} document(s), e.g. ${first}: live ${JSON.stringify(live.docs[first]).slice(0, 400)} vs log ${JSON.stringify(fromScratch.docs[first]).slice(0, 400)}`
        : "its indexes";
      mismatches.push(`${projection.name} (${where}; live at ${await checkpointOf(await active())}, log at ${target})`);
    }
  }
  return mismatches;
}

/**
 * Jobs left `active` that nobody is running: no lock, or a lock held by a
 * worker whose process is gone (no presence connection, see WorkerRecovery).
 * Such a job would wait for BullMQ's stall check, or forever if no worker of
 * its queue comes back; every queue under `prefix` is scanned.
 */
export async function stuckJobs(redis: RedisClient, prefix: string): Promise<string[]> {
  const live = await liveWorkers(redis);
  const stuck: string[] = [];
  // Every queue has a hash tag of its own (bullPrefix): `<prefix>:{q:<queue>}:<queue>:active`.
  await scanKeys(redis, `${prefix}:{q:*}:*:active`, async (keys) => {
    for (const activeKey of keys) {
      const queueKey = activeKey.slice(0, -":active".length);
      for (const id of await redis.lrange(activeKey, 0, -1)) {
        // Read as one step: a job finishing between the LRANGE and a lone GET would look active and unlocked.
        const replies = await redis.multi().lpos(activeKey, id).exists(`${queueKey}:${id}:lock`).hget(`${queueKey}:${id}`, "pb").exec();
        const [stillActive, locked, owner] = (replies ?? []).map(([, value]) => value);
        if (stillActive === null || stillActive === undefined) continue;
        if (locked === 0) stuck.push(`${queueKey.slice(prefix.length + 1)} job ${id}: active without a lock`);
        else if (typeof owner === "string" && !live.has(owner)) stuck.push(`${queueKey.slice(prefix.length + 1)} job ${id}: locked by ${owner}, which is gone`);
      }
    }
  });
  return stuck;
}

function move<T extends Record<string, number>>(totals: T, deltas: Partial<T>): void {
  for (const [key, delta] of Object.entries(deltas)) (totals as Record<string, number>)[key]! += delta as number;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)]));
  }
  return value;
}
