/**
 * Redis Cluster's slot of a key, computed as the server does (CRC16-XMODEM of
 * the key, or of its first non-empty `{hash tag}`, modulo 16384), so unit
 * tests can check a key layout without a cluster.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(hashedPart(key), "utf8");
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

function hashedPart(key: string): string {
  const open = key.indexOf("{");
  if (open < 0) return key;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}
