/**
 * The segment, from 0 to `segments - 1`, that a routing key belongs to.
 *
 * Stable by construction: FNV-1a over the key's UTF-16 code units seeds a
 * mulberry32 stream that drives Lamping and Veach's jump consistent hash. Both
 * are fixed integer arithmetic (Math.imul, unsigned shifts), so every process,
 * Node version and machine computes the same segment; the unit test pins
 * values so a change of algorithm cannot slip in. Jump hash spreads keys
 * evenly and, should a projection's segment count change, moves only the keys
 * the new segments take (1/K of them) instead of reshuffling all. Pure, and
 * about a microsecond a key: every segment routes every event of the log.
 */
export function segmentOf(key: string, segments: number): number {
  if (!Number.isInteger(segments) || segments < 1) throw new RangeError(`segments must be a positive integer, got ${segments}`);
  if (segments === 1) return 0;
  let seed = fnv1a(key);
  let bucket = -1;
  let next = 0;
  while (next < segments) {
    bucket = next;
    seed = (seed + 0x6d2b79f5) >>> 0;
    next = Math.floor((bucket + 1) * (2 ** 32 / (mulberry32(seed) + 1)));
  }
  return bucket;
}

function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** One output of mulberry32 for this state: a well-mixed unsigned 32-bit integer. */
function mulberry32(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
