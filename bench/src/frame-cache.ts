/**
 * Decode once per swarm worker, not once per client. Typha writes the same bytes to every
 * client of a syncer (snapshot pages of one revision, every live delta batch), so a worker that
 * holds 5,000 clients receives each distinct frame 5,000 times. Decoding, validating and hashing
 * a 12 MB felix snapshot 5,000 times would cost the swarm minutes of CPU and tens of GB of heap
 * and measure the swarm instead of Typha; instead:
 *
 *   slices of a message ─(length, first 48 bytes)─▶ a cached frame that starts the same?
 *        │ yes: compare each further slice with the cached bytes at its offset (memcmp), no copy
 *        │      └─ all equal: the cached FrameInfo
 *        └ no, or a slice differs: assemble the message, decode and validate it
 *          (parseServerMessage), reduce it to key indices + value hashes, keep it
 *
 * A hit is confirmed by comparing every byte, so two frames are only treated as the same when
 * they are identical. What a client keeps is its own copy of the state: a Uint32Array
 * of value hashes indexed by the worker's key table (see LiteClient), updated from the decoded
 * frame; only the decoding is shared.
 */
import { decodeServerFrame, msgpackCodec, type FrameAcceptance, type ServerHello, type Goodbye } from '@cattail/typha/protocol';
import { updateKey, type Update } from '@cattail/typha/client';
import { valueHash, keyHash } from './digest.js';
import { TS_LABEL } from './generator.js';
import { stampToMs } from './clock.js';

/** Interns update keys (`kind/namespace/name`) to dense indices shared by a worker's clients. */
export class KeyTable {
  readonly #index = new Map<string, number>();
  readonly keys: string[] = [];
  readonly hashes: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  indexOf(key: string): number {
    let i = this.#index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.#index.set(key, i);
      this.keys.push(key);
      this.hashes.push(keyHash(key));
    }
    return i;
  }

  /** Key indices in key order (for digests). */
  sortedOrder(): Int32Array {
    const order = Int32Array.from(this.keys.keys());
    const keys = this.keys;
    order.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
    return order;
  }
}

export type FrameKind = 'hello' | 'snapshot' | 'deltas' | 'in-sync' | 'ping' | 'pong' | 'goodbye' | 'dictionary';

/** A decoded frame reduced to what a LiteClient applies. Shared between clients: never mutated. */
export interface FrameInfo {
  kind: FrameKind;
  revision: number;
  /** snapshot: page number and last flag. */
  page: number;
  last: boolean;
  hello: ServerHello | undefined;
  goodbye: Goodbye | undefined;
  pingTs: number;
  keyIdx: Int32Array;
  /** 0 = deleted. */
  valHash: Uint32Array;
  maxKey: number;
  /** Write times (monotonic ms) of the churn-stamped updates in this frame. */
  stamps: Float64Array;
  bytes: number;
}

const EMPTY_I32 = new Int32Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);
/** Frames smaller than this are decoded every time (hello, in-sync, ping): caching costs more. */
export const MIN_CACHED_BYTES = 256;
/** Leading bytes that, with the length, index a cached frame (a delta's revision sits in them). */
const PREFIX = 48;

interface Entry {
  bytes: Buffer;
  info: FrameInfo;
}

export interface FrameCacheStats {
  decoded: number;
  /** Frames recognised while streaming, a chunk at a time, without being assembled. */
  streamHits: number;
  /** Frames assembled and then found in the cache. */
  hits: number;
  uncached: number;
  cachedBytes: number;
}

export class FrameCache {
  readonly keys: KeyTable;
  readonly #maxBytes: number;
  readonly #accept: FrameAcceptance;
  readonly #byPrefix = new Map<string, Entry[]>();
  #cachedBytes = 0;
  readonly stats: FrameCacheStats = { decoded: 0, streamHits: 0, hits: 0, uncached: 0, cachedBytes: 0 };

  /**
   * `acceptCompressed`: this worker's clients offered `deflate-snapshot`, so a Compressed frame
   * is inflated (once, like every decode here) and must hold a snapshot page.
   */
  constructor(keys: KeyTable, maxBytes = 256 * 1024 * 1024, acceptCompressed = false, acceptDeflatedDeltas = false) {
    this.keys = keys;
    this.#maxBytes = maxBytes;
    // deflate-deltas: every client of the worker follows the same Typha, so one dictionary
    // (the last one a client was sent) serves the whole frame cache.
    this.#accept = { snapshots: acceptCompressed, ...(acceptDeflatedDeltas ? { deltas: { dictionary: undefined } } : {}) };
  }

  /** Cached frames of this length whose first bytes are `prefix` (≤ PREFIX bytes, all of them if shorter). */
  candidates(length: number, prefix: Buffer): Entry[] | undefined {
    return this.#byPrefix.get(prefixKey(length, prefix));
  }

  /** A whole frame: from the cache if seen before, else decoded, validated and kept. */
  decode(data: Buffer): FrameInfo {
    if (data.length < MIN_CACHED_BYTES) {
      this.stats.uncached++;
      return this.#reduce(data);
    }
    const key = prefixKey(data.length, data);
    const bucket = this.#byPrefix.get(key);
    if (bucket !== undefined) {
      for (const e of bucket) {
        if (e.bytes.equals(data)) {
          this.stats.hits++;
          return e.info;
        }
      }
    }
    const info = this.#reduce(data);
    // Keep our own copy: `data` may share memory with something the caller reuses.
    const entry: Entry = { bytes: Buffer.from(data), info };
    if (bucket === undefined) this.#byPrefix.set(key, [entry]);
    else bucket.push(entry);
    this.#cachedBytes += data.length;
    this.#evict();
    this.stats.cachedBytes = this.#cachedBytes;
    return info;
  }

  #evict(): void {
    for (const [key, bucket] of this.#byPrefix) {
      if (this.#cachedBytes <= this.#maxBytes) return;
      for (const e of bucket) this.#cachedBytes -= e.bytes.length;
      this.#byPrefix.delete(key);
    }
  }

  #reduce(data: Buffer): FrameInfo {
    this.stats.decoded++;
    const msg = decodeServerFrame(msgpackCodec, data, this.#accept);
    const info: FrameInfo = {
      kind: msg.type,
      revision: 'revision' in msg ? msg.revision : 0,
      page: 0,
      last: false,
      hello: undefined,
      goodbye: undefined,
      pingTs: 0,
      keyIdx: EMPTY_I32,
      valHash: EMPTY_U32,
      maxKey: -1,
      stamps: EMPTY_F64,
      bytes: data.length,
    };
    switch (msg.type) {
      case 'hello':
        info.hello = msg;
        break;
      case 'goodbye':
        info.goodbye = msg;
        break;
      case 'ping':
      case 'pong':
        info.pingTs = msg.ts;
        break;
      case 'snapshot':
        info.page = msg.page;
        info.last = msg.last;
        this.#updates(info, msg.updates);
        break;
      case 'deltas':
        this.#updates(info, msg.updates);
        break;
      case 'in-sync':
        break;
    }
    return info;
  }

  #updates(info: FrameInfo, updates: readonly Update[]): void {
    const n = updates.length;
    const keyIdx = new Int32Array(n);
    const valHash = new Uint32Array(n);
    const stamps: number[] = [];
    let maxKey = -1;
    for (let i = 0; i < n; i++) {
      const u = updates[i];
      const k = this.keys.indexOf(updateKey(u));
      keyIdx[i] = k;
      if (k > maxKey) maxKey = k;
      valHash[i] = valueHash(u.value);
      const ts = u.value?.labels?.[TS_LABEL];
      if (typeof ts === 'string') stamps.push(stampToMs(ts));
    }
    info.keyIdx = keyIdx;
    info.valHash = valHash;
    info.maxKey = maxKey;
    info.stamps = stamps.length ? Float64Array.from(stamps) : EMPTY_F64;
  }
}

function prefixKey(length: number, bytes: Buffer): string {
  const n = Math.min(PREFIX, length, bytes.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return `${length}:${h >>> 0}`;
}

const enum Mode {
  /** Gathering the first PREFIX bytes to look the frame up. */
  Prefix,
  /** Comparing each slice against one cached frame. */
  Match,
  /** Assembling the whole frame (unknown frame, mismatch, fragmented or small message). */
  Collect,
}

/**
 * One per client, reused for every message: recognises a message as a cached frame while its
 * slices arrive (no copy, no allocation), or assembles it when it is new.
 *
 *   start(length) ─▶ Prefix ─first PREFIX bytes─▶ a cached frame starts the same? ─▶ Match
 *                        └──────────────────────────── no ─────────────────────────▶ Collect
 *   Match ─slice ≠ cached bytes at this offset─▶ Collect (the matched part is taken from the cache)
 *   end() ─▶ Match: the cached FrameInfo │ Collect: cache.decode(assembled bytes)
 */
export class FrameAssembler {
  readonly #cache: FrameCache;
  #mode = Mode.Collect;
  #length = 0;
  #got = 0;
  #entry: Entry | undefined;
  #parts: Buffer[] = [];

  constructor(cache: FrameCache) {
    this.#cache = cache;
  }

  /** `length` of the first frame of the message; `final` false for a fragmented message. */
  start(length: number, final: boolean): void {
    this.#length = length;
    this.#got = 0;
    this.#entry = undefined;
    this.#parts = [];
    this.#mode = final && length >= MIN_CACHED_BYTES ? Mode.Prefix : Mode.Collect;
  }

  data(slice: Buffer): void {
    switch (this.#mode) {
      case Mode.Match: {
        const e = this.#entry as Entry;
        const at = this.#got;
        if (e.bytes.compare(slice, 0, slice.length, at, at + slice.length) === 0) {
          this.#got += slice.length;
          return;
        }
        this.#mode = Mode.Collect;
        this.#parts = [e.bytes.subarray(0, at), Buffer.from(slice)];
        this.#got += slice.length;
        return;
      }
      case Mode.Collect:
        this.#parts.push(Buffer.from(slice));
        this.#got += slice.length;
        return;
      case Mode.Prefix: {
        const need = Math.min(PREFIX, this.#length);
        if (this.#got === 0 && slice.length >= need) {
          // The common case: the first slice holds the prefix; look up without copying.
          this.#got = slice.length;
          const found = this.#cache.candidates(this.#length, slice)?.find((e) => e.bytes.compare(slice, 0, slice.length, 0, slice.length) === 0);
          if (found !== undefined) {
            this.#mode = Mode.Match;
            this.#entry = found;
          } else {
            this.#mode = Mode.Collect;
            this.#parts = [Buffer.from(slice)];
          }
          return;
        }
        // The prefix straddles slices: assemble it first.
        this.#parts.push(Buffer.from(slice));
        this.#got += slice.length;
        if (this.#got < need) return;
        const sofar = Buffer.concat(this.#parts);
        const found = this.#cache.candidates(this.#length, sofar)?.find((e) => e.bytes.compare(sofar, 0, sofar.length, 0, sofar.length) === 0);
        if (found !== undefined) {
          this.#mode = Mode.Match;
          this.#entry = found;
          this.#parts = [];
        } else {
          this.#mode = Mode.Collect;
          this.#parts = [sofar];
        }
        return;
      }
    }
  }

  /** The message is complete. Throws a ProtocolError for an undecodable new frame. */
  end(): FrameInfo {
    if (this.#mode === Mode.Match && this.#got === this.#length) {
      this.#cache.stats.streamHits++;
      const info = (this.#entry as Entry).info;
      this.#entry = undefined;
      return info;
    }
    const parts = this.#parts;
    this.#parts = [];
    return this.#cache.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }
}
