import { createHash } from "node:crypto";
import { isCluster, type RedisClient } from "../core/redis";
import { APPLY_WRITES_LUA, RedisWrites } from "../core/redisWrites";
import { formatLogPosition, LOG_START, type LogPosition, parseLogPosition } from "../eventstore/logPosition";
import type { Fence, StoreRefusal } from "./checkpointer";

/**
 * What a unit of work read and expects to be unchanged at its commit: a
 * string key's value (null: absent), a hash field's value, or a hash's length.
 */
export type CommitGuard =
  | { kind: "equals"; key: string; value: string | null }
  | { kind: "fieldEquals"; key: string; field: string; value: string | null }
  | { kind: "length"; key: string; length: number };

export interface RedisCommit {
  checkpointKey: string;
  /** Where the highest fencing token committed so far is kept (next to the checkpoint, same hash tag). */
  fenceKey: string;
  /** From `begin`, plus any the caller added; the checkpoint's own guard is among them. */
  guards: readonly CommitGuard[];
  writes: RedisWrites;
  /** The new checkpoint; null for writes that do not move it (they are fenced all the same). */
  next: LogPosition | null;
  fence?: Fence;
}

export type RedisCommitResult =
  /** `counted`: the value of the last HINCRBY among the writes, if any. */
  | { success: true; counted: number | null }
  | { success: false; reason: StoreRefusal };

/**
 * The commit: one Lua script, on a single Redis and on a cluster alike. It is
 * the fence (GUIDE §2 rule 8): WATCH is none on a cluster, where ioredis
 * resends MULTI/EXEC blind after a MOVED. In order, nothing written before the
 * last check:
 *   1. FENCED if a higher lease token than the caller's was stored;
 *   2. MISMATCH if any guard changed (the checkpoint, the active generation...);
 *   3. MISMATCH if the new checkpoint is not after the stored one;
 *   4. stores the token and the checkpoint, applies the writes (publishes included).
 * ARGV: publish command, checkpoint's and fence's KEYS indexes, token ('' no
 * fence), next ('' keep), guard count, guards (kind, KEYS index, field,
 * expected as 'v'..value or 'n'), then the writes (see core/redisWrites.ts).
 */
const COMMIT_LUA = `${APPLY_WRITES_LUA}
local function position_later(a, b)
  local at, ap = string.match(a, '^(%d+)%.(%d+)$')
  local bt, bp = string.match(b, '^(%d+)%.(%d+)$')
  if not (at and bt) then return at ~= nil end
  local function gt(x, y) if #x ~= #y then return #x > #y end return x > y end
  if at ~= bt then return gt(at, bt) end
  return gt(ap, bp)
end
local guards = tonumber(ARGV[6])
local invalid = validate_writes(7 + 4 * guards)
if invalid then return redis.error_reply('ERR commit script: ' .. invalid) end
local checkpoint, fence, token, target = KEYS[tonumber(ARGV[2])], KEYS[tonumber(ARGV[3])], tonumber(ARGV[4]), ARGV[5]
local stored = tonumber(redis.call('GET', fence) or '0') or 0
if token and stored > token then return {'FENCED'} end
for g = 0, guards - 1 do
  local at = 7 + 4 * g
  local kind, key, field, expected = ARGV[at], KEYS[tonumber(ARGV[at + 1])], ARGV[at + 2], ARGV[at + 3]
  local actual
  if kind == 'HLEN' then actual = tostring(redis.call('HLEN', key))
  else
    if kind == 'HEQ' then actual = redis.call('HGET', key, field) else actual = redis.call('GET', key) end
    if actual then actual = 'v' .. actual else actual = 'n' end
  end
  if actual ~= expected then return {'MISMATCH'} end
end
if target ~= '' then
  local current = redis.call('GET', checkpoint)
  if current and not position_later(target, current) then return {'MISMATCH'} end
  redis.call('SET', checkpoint, target)
end
if token and token > stored then redis.call('SET', fence, ARGV[4]) end
return {'OK', apply_writes(7 + 4 * guards, ARGV[1])}
`;

const COMMIT_SHA = createHash("sha1").update(COMMIT_LUA).digest("hex");

/** What `begin` read: the checkpoint, the guards that pin what was read, and the values of `alsoGet` in its order. */
export interface Begun {
  from: LogPosition;
  guards: CommitGuard[];
  also: Array<string | null>;
}

/**
 * A checkpoint in Redis, committed with the writes it covers (a projection's
 * documents, indexes, parked events, change log and notifications) in one
 * script, so a batch and its checkpoint apply together exactly once, and a
 * stale batch (another runner, a retried job, a fenced-out lease owner) writes
 * nothing and publishes nothing. Every key of one commit must share one hash
 * tag on a cluster. No state lives on the connection: steps may share it.
 */
export class RedisCheckpointer {
  private readonly publishCommand: "PUBLISH" | "SPUBLISH";

  constructor(private readonly redis: RedisClient) {
    // Sharded pub/sub on a cluster: the channel lives in the commit's own slot, and only its shard hears it.
    this.publishCommand = isCluster(redis) ? "SPUBLISH" : "PUBLISH";
  }

  /**
   * Reads the checkpoint (and the length of each of `hashLengths`) as they are
   * now, with the guards that make the commit refuse if they change first,
   * and the values of `alsoGet` (same hash tag) in the same round trip.
   */
  async begin(checkpointKey: string, hashLengths: readonly string[] = [], alsoGet: readonly string[] = []): Promise<Begun> {
    // One round trip (one write, one reply) for all of them: they share the commit's hash tag, so one slot.
    const batch = this.redis.pipeline();
    batch.get(checkpointKey);
    for (const key of hashLengths) batch.hlen(key);
    for (const key of alsoGet) batch.get(key);
    const replies = (await batch.exec()) ?? [];
    const value = (i: number): unknown => {
      const [error, reply] = replies[i] ?? [new Error("the pipeline answered fewer replies than it was sent"), null];
      if (error) throw error;
      return reply;
    };
    const text = (i: number): string | null => {
      const reply = value(i);
      return typeof reply === "string" ? reply : null;
    };
    const raw = text(0);
    const guards: CommitGuard[] = [{ kind: "equals", key: checkpointKey, value: raw }];
    hashLengths.forEach((key, i) => guards.push({ kind: "length", key, length: Number(value(1 + i)) }));
    return { from: parseCheckpoint(raw), guards, also: alsoGet.map((_, i) => text(1 + hashLengths.length + i)) };
  }

  async commit(unit: RedisCommit): Promise<RedisCommitResult> {
    const { writes } = unit;
    const guardArgs = unit.guards.flatMap((guard) => {
      const index = String(writes.indexOf(guard.key));
      if (guard.kind === "length") return ["HLEN", index, "", String(guard.length)];
      const expected = guard.value === null ? "n" : `v${guard.value}`;
      return guard.kind === "equals" ? ["EQ", index, "", expected] : ["HEQ", index, guard.field, expected];
    });
    const header = [
      this.publishCommand,
      String(writes.indexOf(unit.checkpointKey)),
      String(writes.indexOf(unit.fenceKey)),
      unit.fence ? String(unit.fence.token) : "",
      unit.next ? formatLogPosition(unit.next) : "",
      String(unit.guards.length),
    ];
    const reply = await this.run(writes.keys, [...header, ...guardArgs, ...writes.args]);
    return parseReply(reply);
  }

  async read(checkpointKey: string): Promise<LogPosition> {
    return parseCheckpoint(await this.redis.get(checkpointKey));
  }

  /** EVALSHA, loading the script on the node that answers NOSCRIPT (each master of a cluster has its own cache). */
  private async run(keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(COMMIT_SHA, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return this.redis.eval(COMMIT_LUA, keys.length, ...keys, ...args);
    }
  }
}

function parseReply(reply: unknown): RedisCommitResult {
  if (!Array.isArray(reply)) throw new Error(`commit script: unexpected reply ${JSON.stringify(reply)}`);
  const [status, counted]: unknown[] = reply;
  if (status === "OK") return { success: true, counted: typeof counted === "number" ? counted : null };
  if (status === "MISMATCH" || status === "FENCED") return { success: false, reason: status };
  throw new Error(`commit script: unexpected status ${JSON.stringify(status)}`);
}

export function parseCheckpoint(value: string | null): LogPosition {
  return (value && parseLogPosition(value)) || LOG_START;
}
