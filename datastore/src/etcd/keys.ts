/**
 * Key helpers. etcd expresses "every key with this prefix" as the range [prefix, prefixEnd),
 * where prefixEnd is the prefix with its last byte below 0xff incremented and what follows
 * dropped; a prefix of only 0xff bytes (or the empty prefix) means "to the end", spelled "\0".
 */
import type { Bytes } from './types.js';

export function toBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
}

const ALL_KEYS_END = Buffer.from([0]);

export function prefixEnd(prefix: Bytes): Buffer {
  const p = toBuffer(prefix);
  for (let i = p.length - 1; i >= 0; i--) {
    if (p[i] < 0xff) {
      const end = Buffer.from(p.subarray(0, i + 1));
      end[i] = p[i] + 1;
      return end;
    }
  }
  return ALL_KEYS_END;
}

/** The range_end for a request: explicit, derived from a prefix, or none (single key). */
export function rangeEndFor(key: Bytes, opts: { rangeEnd?: Bytes; prefix?: boolean }): Buffer | undefined {
  if (opts.rangeEnd !== undefined) return toBuffer(opts.rangeEnd);
  if (opts.prefix === true) return prefixEnd(key);
  return undefined;
}
