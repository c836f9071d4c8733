/**
 * The codec boundary. One instance per wire format; the fan-out encodes each message once per
 * codec and writes the same bytes to every client that negotiated it.
 */
import type { Compressed, Deflated, Message } from './messages.js';

export interface Codec {
  readonly name: 'msgpack' | 'json';
  /** The WebSocket subprotocol that selects this codec. */
  readonly subprotocol: string;
  /** Whether frames are WebSocket binary (msgpack) or text (json). */
  readonly binary: boolean;
  encode(msg: Message | Compressed | Deflated): Buffer;
  /** Decodes one frame to an untrusted value; the caller validates its shape. */
  decode(frame: Buffer): unknown;
}
