/**
 * Snapshot pages compressed once, sent to many (the `deflate-snapshot` feature).
 *
 * A felix snapshot of a 1,000-node cluster is ~15 MB of MessagePack and compresses to ~2.3 MB
 * at DEFLATE level 1, ~2.0 MB at level 6 (docs/BENCHMARKS.md, *Snapshot size*). In a connect storm Typha's time goes
 * almost entirely into copying those bytes into sockets, so sending a sixth of them is the lever.
 * Encode-once still holds: a page is compressed once per revision, when the first client that
 * accepted the feature needs it, and the same `Compressed` frame goes to every such client.
 *
 * Rejected: `permessage-deflate`, which compresses per connection with a per-connection context
 * (CPU and memory per client, and no sharing of the output), exactly what encode-once avoids.
 *
 *   server: page ─codec.encode─▶ frame ─deflateRaw(level 6)─▶ codec.encode({type: compressed, data})
 *   client: frame ─codec.decode─▶ {type: compressed}? ─inflateRaw (≤ 16 MiB)─▶ codec.decode ─▶ parse
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Codec } from './codec.js';
import { MalformedFrameError, UnexpectedMessageError } from './errors.js';
import type { Compressed, DeltaDictionary, ServerMessage } from './messages.js';
import { DELTA_DICTIONARY_MAX_BYTES, type DeltaDictionaryData } from './deflated-deltas.js';
import { parseServerMessage } from './parse.js';
import { MAX_SERVER_FRAME_BYTES } from './transport.js';

/**
 * DEFLATE level 6 (TYPHA_SNAPSHOTDEFLATELEVEL): a felix snapshot 13% smaller than at level 1
 * (1.81 against 2.07 MB per client in the fan-out bench) for ~100 ms instead of ~35 ms of CPU
 * once per 15 MB snapshot revision; in the 10,000-client storm Typha's CPU was ~4% lower with it
 * and the storm time the same within noise (docs/BENCHMARKS.md, *Snapshot DEFLATE level*).
 * Level 9 saves ~3% more for twice the CPU.
 */
export const SNAPSHOT_DEFLATE_LEVEL = 6;

/** The `Compressed` frame (in `codec`) carrying `frame`, an encoded frame of the same codec, at DEFLATE `level`. */
export function compressFrame(codec: Codec, frame: Buffer, level = SNAPSHOT_DEFLATE_LEVEL): Buffer {
  if (!codec.binary) throw new TypeError(`the ${codec.name} codec cannot carry compressed frames (no byte strings)`);
  const msg: Compressed = { type: 'compressed', encoding: 'deflate', data: deflateRawSync(frame, { level }) };
  return codec.encode(msg);
}

/**
 * What a client accepts compressed on one connection: `snapshots` (it offered
 * `deflate-snapshot` and the server accepted), `deltas` (the same for `deflate-deltas`: the
 * holder keeps the dictionary the server sent on this connection; a new connection starts with
 * an empty one).
 */
export interface FrameAcceptance {
  snapshots: boolean;
  deltas?: { dictionary: DeltaDictionaryData | undefined };
}

/**
 * Client side: one frame from Typha, decoded and validated. A `Compressed` envelope is unwrapped
 * when snapshots are accepted compressed and must hold a snapshot page; a `DeltaDictionary` is
 * kept in `accept.deltas` (and returned, for the caller to skip), and a `Deflated` frame is
 * inflated with it and must hold Deltas. Either, not accepted, is an unexpected message like any
 * other type the client never asked for. The inflated size is capped at the frame limit, so a
 * small frame cannot expand without bound.
 */
export function decodeServerFrame(codec: Codec, frame: Buffer, accept: boolean | FrameAcceptance): ServerMessage {
  const a: FrameAcceptance = typeof accept === 'boolean' ? { snapshots: accept } : accept;
  const value = codec.decode(frame);
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (type === 'compressed' && a.snapshots) return unwrapSnapshot(codec, value as Record<string, unknown>);
  if (a.deltas !== undefined) {
    if (type === 'dictionary') return keepDictionary(value as Record<string, unknown>, a.deltas);
    if (type === 'deflated') return unwrapDeltas(codec, value as Record<string, unknown>, a.deltas.dictionary);
  }
  return parseServerMessage(value);
}

function unwrapSnapshot(codec: Codec, c: Record<string, unknown>): ServerMessage {
  if (c.encoding !== 'deflate') throw new MalformedFrameError(`compressed.encoding must be "deflate"`);
  if (!(c.data instanceof Uint8Array)) throw new MalformedFrameError('compressed.data must be a byte string');
  const msg = parseServerMessage(codec.decode(inflate(c.data, undefined, 'compressed')));
  if (msg.type !== 'snapshot') throw new UnexpectedMessageError(`a compressed frame holds "${msg.type}"; only snapshot pages are compressed`);
  return msg;
}

function keepDictionary(d: Record<string, unknown>, holder: { dictionary: DeltaDictionaryData | undefined }): DeltaDictionary {
  if (!Number.isSafeInteger(d.id) || (d.id as number) < 0) throw new MalformedFrameError('dictionary.id must be a non-negative integer');
  if (!(d.data instanceof Uint8Array)) throw new MalformedFrameError('dictionary.data must be a byte string');
  if (d.data.length > DELTA_DICTIONARY_MAX_BYTES) throw new MalformedFrameError(`dictionary.data must be at most ${DELTA_DICTIONARY_MAX_BYTES} bytes`);
  const data = Buffer.from(d.data);
  holder.dictionary = { id: d.id as number, data };
  return { type: 'dictionary', id: d.id as number, data };
}

function unwrapDeltas(codec: Codec, z: Record<string, unknown>, dict: DeltaDictionaryData | undefined): ServerMessage {
  if (!(z.data instanceof Uint8Array)) throw new MalformedFrameError('deflated.data must be a byte string');
  if (dict === undefined || z.dict !== dict.id) {
    throw new UnexpectedMessageError(`deflated deltas name dictionary ${String(z.dict)}, which this connection has not received`);
  }
  const msg = parseServerMessage(codec.decode(inflate(z.data, dict.data, 'deflated')));
  if (msg.type !== 'deltas') throw new UnexpectedMessageError(`a deflated frame holds "${msg.type}"; only delta batches are deflated`);
  return msg;
}

function inflate(data: Uint8Array, dictionary: Buffer | undefined, what: string): Buffer {
  try {
    const opts =
      dictionary !== undefined && dictionary.length > 0 ? { maxOutputLength: MAX_SERVER_FRAME_BYTES, dictionary } : { maxOutputLength: MAX_SERVER_FRAME_BYTES };
    return inflateRawSync(data, opts);
  } catch (err) {
    const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new MalformedFrameError(tooBig ? `${what} frame inflates past ${MAX_SERVER_FRAME_BYTES} bytes` : `${what}.data is not raw DEFLATE`, {
      cause: err,
    });
  }
}
