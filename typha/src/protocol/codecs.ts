/**
 * The codec registry: the WebSocket subprotocol a client offers selects the codec. A server
 * that is offered both picks the first it supports in the client's order of preference.
 */
import type { Codec } from './codec.js';
import { jsonCodec } from './json-codec.js';
import { msgpackCodec } from './msgpack-codec.js';

export type CodecName = Codec['name'];

export const CODECS: Readonly<Record<CodecName, Codec>> = Object.freeze({
  msgpack: msgpackCodec,
  json: jsonCodec,
});

export function codecForSubprotocol(name: string): Codec | undefined {
  if (name === msgpackCodec.subprotocol) return msgpackCodec;
  if (name === jsonCodec.subprotocol) return jsonCodec;
  return undefined;
}

/** Server side of subprotocol negotiation: the first offered subprotocol that names a codec. */
export function selectSubprotocol(offered: Iterable<string>): Codec | undefined {
  for (const p of offered) {
    const c = codecForSubprotocol(p);
    if (c !== undefined) return c;
  }
  return undefined;
}
