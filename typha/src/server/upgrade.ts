/**
 * The gate in front of the WebSocket upgrade: everything refused here never becomes a
 * connection, and gets an HTTP status with a plain-text body that says what was wrong and what
 * to do, so `curl -i` and the client's error both explain themselves.
 *
 *   not GET /sync                       404  the sync stream is at /sync
 *   no known subprotocol offered        400  names the subprotocols this server speaks
 *   TLS identity not allowed            403  names the CN / URI SAN wanted and the ones presented
 *   draining or stopped                 503  try another replica (Retry-After)
 *   a plain HTTP request                426  this endpoint only speaks WebSocket
 *   request not complete in time        408  upgradeTimeoutMs (slowloris, or a silent socket)
 *   not parseable as HTTP               400 / 431 (headers too large)
 *
 * Before all of these, at accept (see accept-gate.ts), before the request is even read:
 *
 *   too many connections from one address     429  names the limit (Retry-After)
 *   too many connections in their handshake   503  names the limit (Retry-After)
 *
 * Under TLS an accept-time refusal is a plain close: an HTTP answer would need the TLS
 * handshake that the limit is there to avoid paying for.
 */
import http, { STATUS_CODES, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock } from '../common/clock.js';
import type { Codec } from '../protocol/codec.js';
import { selectSubprotocol } from '../protocol/codecs.js';
import { SYNC_PATH } from '../protocol/transport.js';
import type { RejectReason } from '../metrics/server-metrics.js';
import { checkClientIdentity, type ClientIdentityRule } from './client-identity.js';
import type { TLSSocket } from 'node:tls';

/** The upgrade gate's answer: the codec to speak, or a refusal with its HTTP status. */
export type UpgradeVerdict = { codec: Codec } | { status: number; body: string; reason: RejectReason; headers?: Record<string, string>; identity?: boolean };

/**
 * The checks of the table above, in order, for a complete upgrade request: the same in the
 * sync server and in its fan-out workers. `identity`: the client-certificate rule when TLS
 * client certificates are required.
 */
export function upgradeVerdict(req: IncomingMessage, accepting: boolean, identity: ClientIdentityRule | undefined, codecs: readonly Codec[]): UpgradeVerdict {
  if (!accepting) return { status: 503, body: 'typha is shutting down: connect to another replica', reason: 'draining', headers: { 'Retry-After': '1' } };
  const path = requestPath(req);
  if (path !== SYNC_PATH) return { status: 404, body: pathRefusal(path), reason: 'not-found' };
  if (identity !== undefined) {
    const refused = checkClientIdentity(identity, (req.socket as TLSSocket).getPeerCertificate());
    if (refused !== undefined) return { status: 403, body: refused, reason: 'unauthorized', identity: true };
  }
  const offered = offeredSubprotocols(req);
  const codec = negotiateCodec(offered, codecs);
  if (codec === undefined) return { status: 400, body: subprotocolRefusal(offered, codecs), reason: 'subprotocol' };
  return { codec };
}

/** The request's path without its query string. */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The subprotocols in `Sec-WebSocket-Protocol` (comma-separated, possibly repeated headers). */
export function offeredSubprotocols(req: IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  if (raw === undefined) return [];
  const out: string[] = [];
  for (const part of (Array.isArray(raw) ? raw.join(',') : raw).split(',')) {
    const p = part.trim();
    if (p !== '') out.push(p);
  }
  return out;
}

/** The codec for the first offered subprotocol this server has enabled, in the client's order. */
export function negotiateCodec(offered: readonly string[], enabled: readonly Codec[]): Codec | undefined {
  const mine = new Set(enabled.map((c) => c.subprotocol));
  const chosen = selectSubprotocol(offered.filter((p) => mine.has(p)));
  return chosen && enabled.find((c) => c.name === chosen.name);
}

export function subprotocolRefusal(offered: readonly string[], enabled: readonly Codec[]): string {
  const want = enabled.map((c) => c.subprotocol).join(', ');
  const got = offered.length === 0 ? 'none' : offered.map((p) => JSON.stringify(p.slice(0, 64))).join(', ');
  return `no supported WebSocket subprotocol offered (offered: ${got}); offer one of: ${want}`;
}

export function pathRefusal(path: string): string {
  return `no WebSocket endpoint at ${JSON.stringify(path.slice(0, 100))}: the Typha sync stream is at ${SYNC_PATH}`;
}

/** An HTTP error response that closes the connection, with a plain-text body. */
function httpRefusal(status: number, body: string, headers: Record<string, string> = {}): string {
  const text = body.endsWith('\n') ? body : `${body}\n`;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return `${head}\r\n${text}`;
}

/** Writes an HTTP error response on a socket whose request was read (not upgraded), then closes it. */
export function refuseUpgrade(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', destroySocket);
  socket.end(httpRefusal(status, body, headers));
}

/**
 * Refuses a plain TCP connection at accept, before its request was read. The answer goes out
 * followed by a FIN, and what the client sends meanwhile is read and dropped until it closes or
 * `lingerMs` pass: closing with its request unread would make the kernel answer with an RST,
 * which can discard our answer before the client reads it. The socket is nobody's afterwards
 * (no parser, no counts), so the timer bounds it.
 */
export function refuseAccepted(socket: Socket, status: number, body: string, headers: Record<string, string>, lingerMs: number, clock: Clock): void {
  socket.on('error', ignoreError);
  socket.resume();
  socket.end(httpRefusal(status, body, headers));
  clock.setTimeout(destroyLingering, lingerMs, socket);
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function destroyLingering(socket: Socket): void {
  socket.destroy();
}

function ignoreError(): void {
  // A refused peer that resets: nothing to do, the socket is closing anyway.
}

/**
 * The HTTP(S) server that takes the sync upgrade, in the main process and in every fan-out
 * worker alike: with `tls`, TLS 1.2 or later, and a client certificate required and verified
 * against `ca` when one is given (the CN / URI SAN rule is checked at the upgrade).
 */
export function syncHttpServer(
  tls: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer } | undefined,
  handshakeTimeoutMs: number,
): http.Server {
  return tls
    ? https.createServer({
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca,
        requestCert: tls.ca !== undefined,
        rejectUnauthorized: tls.ca !== undefined,
        handshakeTimeout: handshakeTimeoutMs,
        minVersion: 'TLSv1.2',
      })
    : http.createServer();
}
