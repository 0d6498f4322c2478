import { createHash } from "node:crypto";
import { Cluster, type Redis } from "ioredis";
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

  constructor(private readonly redis: Redis | Cluster) {
    // Sharded pub/sub on a cluster: the channel lives in the commit's own slot, and only its shard hears it.
    this.publishCommand = redis instanceof Cluster ? "SPUBLISH" : "PUBLISH";
  }

  /**
   * Reads the checkpoint (and the length of each of `hashLengths`) as they are
   * now, with the guards that make the commit refuse if they change first.
   */
  async begin(checkpointKey: string, hashLengths: readonly string[] = []): Promise<{ from: LogPosition; raw: string | null; guards: CommitGuard[] }> {
    const [raw, ...lengths] = await Promise.all([this.redis.get(checkpointKey), ...hashLengths.map((key) => this.redis.hlen(key))]);
    const guards: CommitGuard[] = [{ kind: "equals", key: checkpointKey, value: raw ?? null }];
    hashLengths.forEach((key, i) => guards.push({ kind: "length", key, length: lengths[i] ?? 0 }));
    return { from: parseCheckpoint(raw ?? null), raw: raw ?? null, guards };
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
