/**
 * The bytes a WebSocket client puts on the wire, built by hand for tools that talk to Typha
 * below the `ws` library: the bench's swarm (`bench/src/raw-ws.ts`) and the hostile clients of
 * `attack-swarm.ts`. RFC 6455: client frames are masked; the upgrade is a plain HTTP/1.1 GET.
 */
import { randomBytes } from 'node:crypto';
import { Features, PROTOCOL_VERSION, SUBPROTOCOL_MSGPACK, SYNC_PATH, msgpackCodec, type ClientHello } from '../protocol/index.js';

/** A final, masked client frame. */
export function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(h + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  randomBytes(4).copy(out, h);
  for (let i = 0; i < n; i++) out[h + 4 + i] = payload[i] ^ out[h + (i & 3)];
  return out;
}

/** The request line and headers of a WebSocket upgrade to `/sync` offering the msgpack subprotocol. */
export function upgradeRequest(host: string, port: number): string {
  return [
    `GET ${SYNC_PATH} HTTP/1.1`,
    `Host: ${host}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Protocol: ${SUBPROTOCOL_MSGPACK}`,
    '',
    '',
  ].join('\r\n');
}

/** A masked binary frame with a felix hello from `node` (feature goodbye only: plain snapshot pages). */
export function helloFrame(node: string): Buffer {
  const hello: ClientHello = { type: 'hello', protocolVersion: PROTOCOL_VERSION, syncer: 'felix', node, features: [Features.Goodbye] };
  return maskedFrame(0x2, msgpackCodec.encode(hello));
}
