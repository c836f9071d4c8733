/**
 * The default wire format: plain MessagePack in binary frames, through msgpackr.
 *
 * Options, and why:
 * - `useRecords: false`, no shared structures: msgpackr's record extension would make a frame
 *   depend on structures defined by earlier frames. Encode-once needs the opposite: the same
 *   bytes go to clients that joined at different times, so every frame decodes on its own, and
 *   any MessagePack library (Go, Python, a debugging tool) can read it.
 * - `variableMapSize: true`: small maps get a 1-byte fixmap header instead of a 3-byte map16.
 *   Measured on a snapshot page of 1000 WorkloadEndpoint updates (node 20; a throwaway script,
 *   to be moved to typha/bench/ with the server's benchmarks):
 *   347,872 bytes vs 355,874 (-2.3%) with equal encode time (1.29-1.35 ms vs 1.36-1.44 ms);
 *   a 20-update delta batch 6,838 vs 7,000 bytes. Maps over 65,535 keys also stay encodable.
 * - `useFloat32` off: revisions and timestamps must round-trip exactly.
 * - `encodeUndefinedAsNil: true`: an optional field that is present but undefined becomes nil,
 *   which every MessagePack reader knows, instead of msgpackr's fixext "undefined" (3 bytes, not
 *   portable). The parser treats nil in an optional field as absent. (`skipValues: [undefined]`
 *   would drop the key instead, but costs ~30% encode time.)
 *
 * msgpackr returns a view into a shared slab that may be as large as the biggest frame encoded
 * so far; a small delta frame kept in the cache would pin that slab. Frames that use less than
 * half of their backing store are therefore copied out (a 7 KB copy costs ~2 µs, once per batch,
 * not per client).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Codec } from './codec.js';
import { MalformedFrameError } from './errors.js';
import { SUBPROTOCOL_MSGPACK, type Compressed, type Message } from './messages.js';

const packr = new Packr({
  useRecords: false,
  variableMapSize: true,
  useFloat32: 0,
  encodeUndefinedAsNil: true,
});

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export const msgpackCodec: Codec = Object.freeze({
  name: 'msgpack' as const,
  subprotocol: SUBPROTOCOL_MSGPACK,
  binary: true,
  encode: encodeMsgpack,
  decode: decodeMsgpack,
});

function encodeMsgpack(msg: Message | Compressed): Buffer {
  const view = packr.pack(msg);
  return view.byteLength * 2 < view.buffer.byteLength ? Buffer.from(view) : view;
}

function decodeMsgpack(frame: Buffer): unknown {
  if (frame.byteLength === 0) throw new MalformedFrameError('empty frame');
  try {
    return unpackr.unpack(frame);
  } catch (err) {
    throw new MalformedFrameError('not a single MessagePack value', { cause: err });
  }
}
