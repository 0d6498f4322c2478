/**
 * The writes of one atomic step, staged in memory and applied by one Lua
 * script (see processing/redisCheckpointer.ts), instead of a MULTI. Each key
 * is declared once, in order, so the script can be routed and slot-checked by
 * a Redis Cluster: every key of one step must share one hash tag.
 *
 * Encoding (ARGV after the caller's header): an opcode, the KEYS index of its
 * key, then the opcode's fixed arguments. APPLY_WRITES_LUA reads it back.
 */
export class RedisWrites {
  private readonly keyIndex = new Map<string, number>();
  readonly keys: string[] = [];
  readonly args: string[] = [];

  get size(): number {
    return this.args.length;
  }

  set(key: string, value: string): this {
    return this.op("S", key, value);
  }

  del(key: string): this {
    return this.op("D", key);
  }

  /** ZADD with score 0: the read models' indexes are lexicographic sets. */
  zadd(key: string, member: string): this {
    return this.op("ZA", key, member);
  }

  zrem(key: string, member: string): this {
    return this.op("ZR", key, member);
  }

  hset(key: string, field: string, value: string): this {
    return this.op("HS", key, field, value);
  }

  hdel(key: string, field: string): this {
    return this.op("HD", key, field);
  }

  /** The script returns the value of the last HINCRBY it ran. */
  hincrby(key: string, field: string, by: number): this {
    return this.op("HI", key, field, String(by));
  }

  /**
   * Publishes to a channel of the step's own slot: PUBLISH on a single Redis,
   * SPUBLISH on a cluster (the channel is declared with the keys, so a
   * channel of another slot is refused before anything runs).
   */
  publish(channel: string, message: string): this {
    return this.op("P", channel, message);
  }

  /**
   * Appends `payload` to a capped stream under the entry id `id`, chained to
   * the newest entry: its `from` field is where that entry ended (or `from`
   * for the first one). An id not after the newest entry starts the stream
   * over; an `emptyPayload` is appended only when the stream does not exist.
   * Used by the subscriptions' change log (subscriptions/changeLog.ts).
   */
  appendChained(key: string, entry: { id: string; from: string; payload: string; emptyPayload: string; maxLength: number }): this {
    return this.op("L", key, entry.id, entry.from, entry.payload, entry.emptyPayload, String(entry.maxLength));
  }

  /** KEYS index (1-based) of `key`, declaring it on first use. */
  indexOf(key: string): number {
    let index = this.keyIndex.get(key);
    if (index === undefined) {
      index = this.keys.push(key);
      this.keyIndex.set(key, index);
    }
    return index;
  }

  private op(code: string, key: string, ...values: string[]): this {
    this.args.push(code, String(this.indexOf(key)), ...values);
    return this;
  }
}

/**
 * Lua: `validate_writes(first)` checks the staged writes from ARGV[first] on
 * (so a malformed list fails before anything is written: a script is not
 * rolled back), and `apply_writes(first, publish)` runs them, returning the
 * last HINCRBY's value or false. `publish` is PUBLISH or SPUBLISH.
 */
export const APPLY_WRITES_LUA = `
local WIDTH = { S = 3, D = 2, ZA = 3, ZR = 3, HS = 4, HD = 3, HI = 4, P = 3, L = 7 }
local function validate_writes(first)
  local i = first
  while i <= #ARGV do
    local width = WIDTH[ARGV[i]]
    if not width then return 'unknown write ' .. tostring(ARGV[i]) end
    if not KEYS[tonumber(ARGV[i + 1])] then return 'undeclared key in write ' .. ARGV[i] end
    i = i + width
  end
  if i ~= #ARGV + 1 then return 'truncated writes' end
  return nil
end
local function stream_later(a, b)
  local ah, al = string.match(a, '^(%d+)%-(%d+)$')
  local bh, bl = string.match(b, '^(%d+)%-(%d+)$')
  local function gt(x, y) if #x ~= #y then return #x > #y end return x > y end
  if ah ~= bh then return gt(ah, bh) end
  return gt(al, bl)
end
local function apply_writes(first, publish)
  local counted = false
  local i = first
  while i <= #ARGV do
    local op = ARGV[i]
    local key = KEYS[tonumber(ARGV[i + 1])]
    if op == 'S' then redis.call('SET', key, ARGV[i + 2])
    elseif op == 'D' then redis.call('DEL', key)
    elseif op == 'ZA' then redis.call('ZADD', key, 0, ARGV[i + 2])
    elseif op == 'ZR' then redis.call('ZREM', key, ARGV[i + 2])
    elseif op == 'HS' then redis.call('HSET', key, ARGV[i + 2], ARGV[i + 3])
    elseif op == 'HD' then redis.call('HDEL', key, ARGV[i + 2])
    elseif op == 'HI' then counted = redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3])
    elseif op == 'P' then redis.call(publish, key, ARGV[i + 2])
    elseif op == 'L' then
      local id, from, payload = ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
      if not (payload == ARGV[i + 5] and redis.call('EXISTS', key) == 1) then
        local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
        if newest then
          if stream_later(id, newest[1]) then from = string.gsub(newest[1], '-', '.') else redis.call('DEL', key) end
        end
        redis.call('XADD', key, 'MAXLEN', ARGV[i + 6], id, 'from', from, 'batch', payload)
      end
    end
    i = i + WIDTH[op]
  end
  return counted
end
`;
