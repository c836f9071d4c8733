/**
 * Delta batches compressed once per codec and shared by every client (the `deflate-deltas`
 * feature): raw DEFLATE with a preset dictionary built from the syncer's own key space.
 *
 * A live batch is small (one or two WorkloadEndpoints, ~500 B each on the wire), so DEFLATE on
 * its own finds little to match: the repetition is ACROSS batches (field names, label keys,
 * namespaces, profile names, node names). Calico gets it with a snappy (or zstd) stream per
 * connection, compressed per connection. Here the batch is compressed ONCE, so the shared
 * context has to be one every client already holds: a dictionary of sample updates of the
 * syncer's state, sent once per connection right after the ServerHello (the same frame to
 * every client). Measured choice (`bench/src/delta-compression.ts`, docs/BENCHMARKS.md): a
 * streaming context shared per syncer compresses a little better, but only holds if every
 * client receives every batch from the same point in order, which resume, catch-up pages,
 * snapshot tails and lagging clients all break; a dictionary holds for any frame on its own.
 *
 * The invariant: a `Deflated` frame decodes with the dictionary sent earlier on the SAME
 * connection and nothing else, so it may be replayed, skipped or coalesced like any Deltas
 * frame. The dictionary of a syncer is built once (when first needed, from the state then)
 * and never changes for the life of the cache; a drifting key space only compresses worse.
 *
 *   server: batch ─codec.encode─▶ frame ─deflateRaw(dictionary)─▶ codec.encode({type: deflated, dict, data})
 *   client: hello ─▶ {type: dictionary} kept ─▶ {type: deflated} ─inflateRaw(dictionary, ≤ 16 MiB)─▶ codec.decode ─▶ Deltas
 */
import { crc32, deflateRawSync } from 'node:zlib';
import type { Codec } from './codec.js';
import type { Deflated, DeltaDictionary, Update } from './messages.js';

/** DEFLATE's window: a dictionary byte further back than this is never referenced. */
export const DELTA_DICTIONARY_MAX_BYTES = 32 * 1024;
/** Batches are small and compressed once each: the best level costs microseconds. */
export const DELTA_DEFLATE_LEVEL = 9;

export interface DeltaDictionaryData {
  readonly id: number;
  readonly data: Buffer;
}

/**
 * A dictionary from `state` (the syncer's updates): samples of every kind, spread evenly over
 * each kind's keys, the commonest kind last (nearest the data, so the cheapest to reference),
 * encoded as one Deltas frame of `codec` (the bytes a batch is made of), its last `maxBytes`.
 */
export function buildDeltaDictionary(codec: Codec, state: readonly Update[], maxBytes = DELTA_DICTIONARY_MAX_BYTES): DeltaDictionaryData {
  const byKind = new Map<string, Update[]>();
  for (const u of state) {
    let list = byKind.get(u.kind);
    if (list === undefined) byKind.set(u.kind, (list = []));
    list.push(u);
  }
  // Two encodes in all: 64 updates spread over the state, for the size of one; then the samples.
  const probe: Update[] = [];
  for (let i = 0; i < state.length && probe.length < 64; i += Math.max(1, Math.floor(state.length / 64))) probe.push(state[i]);
  const perUpdate = probe.length > 0 ? codec.encode({ type: 'deltas', revision: 0, updates: probe }).length / probe.length : 1;
  const target = Math.max(1, Math.ceil((2 * maxBytes) / perUpdate));
  const kinds = [...byKind.values()].sort((a, b) => a.length - b.length);
  const samples: Update[] = [];
  for (const list of kinds) {
    const n = Math.min(list.length, Math.max(1, Math.round((target * list.length) / state.length)));
    for (let j = 0; j < n; j++) samples.push(list[Math.floor((j * list.length) / n)]);
  }
  const frame = samples.length === 0 ? Buffer.alloc(0) : codec.encode({ type: 'deltas', revision: 0, updates: samples });
  const data = Buffer.from(frame.length > maxBytes ? frame.subarray(frame.length - maxBytes) : frame);
  return { id: crc32(data) >>> 0, data };
}

/** The `DeltaDictionary` frame sent once per connection (encoded once, shared). */
export function deltaDictionaryFrame(codec: Codec, dict: DeltaDictionaryData): Buffer {
  const msg: DeltaDictionary = { type: 'dictionary', id: dict.id, data: dict.data };
  return codec.encode(msg);
}

/**
 * The `Deflated` frame carrying `frame` (an encoded Deltas frame of `codec`), or undefined when
 * compressing does not make it smaller (the plain frame then goes to everyone).
 */
export function deflateDeltasFrame(codec: Codec, frame: Buffer, dict: DeltaDictionaryData): Buffer | undefined {
  if (!codec.binary) throw new TypeError(`the ${codec.name} codec cannot carry compressed frames (no byte strings)`);
  const opts = dict.data.length > 0 ? { level: DELTA_DEFLATE_LEVEL, dictionary: dict.data } : { level: DELTA_DEFLATE_LEVEL };
  const msg: Deflated = { type: 'deflated', dict: dict.id, data: deflateRawSync(frame, opts) };
  const out = codec.encode(msg);
  return out.length < frame.length ? out : undefined;
}

/** Suffix of the frame kind under which a batch's `Deflated` frames are kept and fanned out. */
export const DEFLATED_KIND_SUFFIX = '+deflate';

/**
 * The kind of delta frames a client receives: its codec's name, or `<codec>+deflate` for a
 * client that accepted `deflate-deltas`. A batch without a frame of that kind (it did not
 * compress smaller) goes to it under its codec's name: see `baseFrameKind`.
 */
export function deltaFrameKind(codec: Codec['name'], deflated: boolean): string {
  return deflated ? `${codec}${DEFLATED_KIND_SUFFIX}` : codec;
}

/** The codec whose plain frame stands in for a frame of `kind`. */
export function baseFrameKind(kind: string): string {
  return kind.endsWith(DEFLATED_KIND_SUFFIX) ? kind.slice(0, -DEFLATED_KIND_SUFFIX.length) : kind;
}
