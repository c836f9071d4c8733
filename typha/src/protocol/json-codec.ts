/**
 * The debugging wire format: one JSON document per UTF-8 text frame, so a person can talk to
 * Typha with `websocat` and read what it says. Same messages, same fields as MessagePack;
 * optional fields that are undefined are simply left out. Receivers accept the bytes of either
 * frame type, since JSON sent in a binary frame is still JSON.
 */
import type { Codec } from './codec.js';
import { MalformedFrameError } from './errors.js';
import { SUBPROTOCOL_JSON, type Compressed, type Message } from './messages.js';

export const jsonCodec: Codec = Object.freeze({
  name: 'json' as const,
  subprotocol: SUBPROTOCOL_JSON,
  binary: false,
  encode: encodeJson,
  decode: decodeJson,
});

function encodeJson(msg: Message | Compressed): Buffer {
  return Buffer.from(JSON.stringify(msg), 'utf8');
}

function decodeJson(frame: Buffer): unknown {
  try {
    return JSON.parse(frame.toString('utf8'));
  } catch (err) {
    throw new MalformedFrameError('not a JSON document', { cause: err });
  }
}
