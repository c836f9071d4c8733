/**
 * State digests: one short string per client that is equal exactly when two clients hold the
 * same keys with the same projected values (revisions are ignored: two clients that reached the
 * same state by different routes, snapshot or resume, must compare equal).
 *
 *   valueHash(value)  32-bit FNV-1a of the value's canonical JSON (object keys sorted), never 0
 *                     (0 means "absent" in the swarm's per-client state arrays)
 *   keyHash(key)      32-bit FNV-1a of `kind/namespace/name`
 *   digest            two 32-bit lanes folded over (keyHash, valueHash) in key order, plus the
 *                     key count: "34004:9f1c…"
 *
 * The swarm computes value hashes once per distinct frame and keeps only (key index, value hash)
 * per client, so a digest over 35,000 keys costs a loop over two typed arrays. The reference
 * SyncClient and the datastore projection go through the same functions.
 */
import type { ProjectedValue } from '@cattail/typha/client';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === undefined ? 'null' : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (ArrayBuffer.isView(v)) return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function valueHash(value: ProjectedValue | undefined): number {
  if (value === undefined) return 0;
  return fnv1a(canonicalJson(value)) || 1;
}

export function keyHash(key: string): number {
  return fnv1a(key);
}

/** Folds (keyHash, valueHash) pairs, fed in key order, into a digest. */
export class DigestBuilder {
  #a = 0x12345678;
  #b = 0x9abcdef0;
  #n = 0;

  add(kh: number, vh: number): void {
    this.#a = Math.imul(this.#a ^ kh, 0x01000193) ^ vh;
    this.#a = Math.imul(this.#a, 0x85ebca6b) >>> 0;
    this.#b = Math.imul(this.#b + vh, 0xc2b2ae35) ^ (kh >>> 7);
    this.#b = Math.imul(this.#b ^ (this.#b >>> 13), 0x27d4eb2f) >>> 0;
    this.#n++;
  }

  get count(): number {
    return this.#n;
  }

  digest(): string {
    return `${this.#n}:${(this.#a >>> 0).toString(16).padStart(8, '0')}${(this.#b >>> 0).toString(16).padStart(8, '0')}`;
  }
}

/** Digest of a list of (key, value): sorts by key itself. */
export function digestEntries(entries: Iterable<readonly [key: string, value: ProjectedValue | undefined]>): string {
  const list = [...entries].filter((e) => e[1] !== undefined).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const d = new DigestBuilder();
  for (const [k, v] of list) d.add(keyHash(k), valueHash(v));
  return d.digest();
}
