/**
 * Snapshot pages compressed once, sent to many (the `deflate-snapshot` feature).
 *
 * A felix snapshot of a 1,000-node cluster is ~15 MB of MessagePack and compresses to ~2.3 MB
 * at DEFLATE level 1 (docs/BENCHMARKS.md, *Snapshot size*). In a connect storm Typha's time goes
 * almost entirely into copying those bytes into sockets, so sending a sixth of them is the lever.
 * Encode-once still holds: a page is compressed once per revision, when the first client that
 * accepted the feature needs it, and the same `Compressed` frame goes to every such client.
 *
 * Rejected: `permessage-deflate`, which compresses per connection with a per-connection context
 * (CPU and memory per client, and no sharing of the output), exactly what encode-once avoids.
 *
 *   server: page ─codec.encode─▶ frame ─deflateRaw(level 1)─▶ codec.encode({type: compressed, data})
 *   client: frame ─codec.decode─▶ {type: compressed}? ─inflateRaw (≤ 16 MiB)─▶ codec.decode ─▶ parse
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Codec } from './codec.js';
import { MalformedFrameError, UnexpectedMessageError } from './errors.js';
import type { Compressed, ServerMessage } from './messages.js';
import { parseServerMessage } from './parse.js';
import { MAX_SERVER_FRAME_BYTES } from './transport.js';

/** DEFLATE level 1: 85% smaller for 46 ms per 15 MB snapshot; higher levels save little more. */
export const SNAPSHOT_DEFLATE_LEVEL = 1;

/** The `Compressed` frame (in `codec`) carrying `frame`, an encoded frame of the same codec. */
export function compressFrame(codec: Codec, frame: Buffer): Buffer {
  if (!codec.binary) throw new TypeError(`the ${codec.name} codec cannot carry compressed frames (no byte strings)`);
  const msg: Compressed = { type: 'compressed', encoding: 'deflate', data: deflateRawSync(frame, { level: SNAPSHOT_DEFLATE_LEVEL }) };
  return codec.encode(msg);
}

/**
 * Client side: one frame from Typha, decoded and validated. A `Compressed` envelope is unwrapped
 * when `acceptCompressed` (the client offered `deflate-snapshot`) and must hold a snapshot page;
 * otherwise it is an unexpected message like any other type the client never asked for. The
 * inflated size is capped at the frame limit, so a small frame cannot expand without bound.
 */
export function decodeServerFrame(codec: Codec, frame: Buffer, acceptCompressed: boolean): ServerMessage {
  const value = codec.decode(frame);
  if (!acceptCompressed || !isCompressed(value)) return parseServerMessage(value);
  const c = value as Record<string, unknown>;
  if (c.encoding !== 'deflate') throw new MalformedFrameError(`compressed.encoding must be "deflate"`);
  if (!(c.data instanceof Uint8Array)) throw new MalformedFrameError('compressed.data must be a byte string');
  let inner: Buffer;
  try {
    inner = inflateRawSync(c.data, { maxOutputLength: MAX_SERVER_FRAME_BYTES });
  } catch (err) {
    const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new MalformedFrameError(tooBig ? `compressed frame inflates past ${MAX_SERVER_FRAME_BYTES} bytes` : 'compressed.data is not raw DEFLATE', {
      cause: err,
    });
  }
  const msg = parseServerMessage(codec.decode(inner));
  if (msg.type !== 'snapshot') throw new UnexpectedMessageError(`a compressed frame holds "${msg.type}"; only snapshot pages are compressed`);
  return msg;
}

function isCompressed(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'compressed';
}
