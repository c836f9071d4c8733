/**
 * A fan-out worker process (TYPHA_FANOUTWORKERS > 1): it holds a share of the clients' sockets
 * and writes to them; the main process decides everything (see `fanout-pool.ts`).
 *
 *   main ──conn + TCP handle──▶ [TLS: on first bytes] ─▶ http(s) upgrade request ─▶ upgradeVerdict
 *        ──commands (batched)─▶ write / close / live+ live- / lives / ack
 *   worker ──events (batched)─▶ upreq, refused, open, msg, act, error, close, tcpclose, flushed, behind, acked
 *
 * Live clients. The main process sweeps this worker's live clients in their own lane (fan-out.ts)
 * and sends each chunk's visits as `lives` commands: a run (the frames by id, header + payload
 * built once per command) and the clients it goes to, ONE write each. A client over the
 * high-water mark is not written: it leaves the live state and is reported `behind` with the
 * revision of the last run it was written, and so is a live client the main process takes out
 * with `live-`; the main process catches it up from the cache from there. `ack` is answered
 * once the commands before it are done: the lane's pacing, so the main process never hands
 * this worker more than it can write (what its clients miss meanwhile is merged for them).
 *
 * Flow control of per-client writes (hello, snapshot pages, catch-up): the main process counts
 * what it sent; each write here carries a callback that counts the bytes once the kernel took
 * them, reported as `flushed`, so the main process's estimate of the client's buffer only errs
 * on the high side. A report is sent only when the main process may be waiting for one (more
 * than half the high-water mark written since the last report, at most half still buffered),
 * at most one per client per turn: a 35,000-endpoint snapshot is ~70 pages, and a report per
 * page per client was most of what a cold storm cost the main process.
 *
 * The worker exits when its IPC channel closes (the main process is gone) or on `stop`.
 */
import http from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { CODECS } from '../protocol/codecs.js';
import type { Codec } from '../protocol/codec.js';
import { SYNC_PATH } from '../protocol/transport.js';
import { directWriter, frameHeader, rawSocket, supportsDirectWrites, wireFrame, wsSendWriter, type FrameWriter } from './frame-writer.js';
import type { WorkerCommand, WorkerEvent, WorkerInit, WorkerListen } from './fanout-protocol.js';
import { refuseAccepted, refuseUpgrade, syncHttpServer, upgradeVerdict } from './upgrade.js';
import { realClock } from '../common/clock.js';

interface Client {
  readonly tid: number;
  /** The TCP socket the main process handed over. */
  readonly socket: Socket;
  ws: WebSocket | undefined;
  /** What frames are written to: the TCP socket, or under TLS the TLSSocket over it. */
  out: Duplex;
  writer: FrameWriter;
  /** Bytes handed to the socket by per-client writes, and of those the kernel took. */
  written: number;
  flushed: number;
  /** `flushed` as last reported to the main process. */
  reportedFlushed: number;
  /** Lengths of per-client writes not yet flushed, oldest first. */
  readonly pendingLengths: number[];
  /** Live (from `live+` until it is reported `behind`): `lives` commands write to it. */
  live: boolean;
  liveRevision: number;
  /** Its upgrade request arrived (an `expire` that crossed it on the way is ignored). */
  requested: boolean;
  /** Reported `behind` with a full buffer: its next 'drain' is reported (others need no report). */
  awaitingDrain: boolean;
  flushedDirty: boolean;
  onFlushed: () => void;
}

const kClient = Symbol('typha.fanout.client');
type Tagged = { [kClient]?: Client };

let init: WorkerInit;
let codecs: Codec[] = [];
let httpServer: http.Server;
let wss: WebSocketServer;
let accepting = true;
const clients = new Map<number, Client>();
/** Accepted sockets waiting, paused, for the main process's accept gate, and their 'close' listener. */
const waiting = new Map<number, { socket: Socket; onClose: () => void }>();
let listener: net.Server | undefined;
let nextTid = 0;
const frames = new Map<number, Buffer>();
const dirty = new Set<Client>();
let outbox: WorkerEvent[] = [];
let flushScheduled = false;

function emit(ev: WorkerEvent): void {
  outbox.push(ev);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushOutbox);
  }
}

function flushOutbox(): void {
  flushScheduled = false;
  for (const c of dirty) {
    c.flushedDirty = false;
    c.reportedFlushed = c.flushed;
    emit({ t: 'flushed', tid: c.tid, bytes: c.flushed, buffered: c.ws?.bufferedAmount ?? c.socket.writableLength });
  }
  dirty.clear();
  flushScheduled = false;
  if (outbox.length === 0 || process.send === undefined || !process.connected) {
    outbox = [];
    return;
  }
  const batch = outbox;
  outbox = [];
  process.send(batch);
}

function start(msg: WorkerInit): void {
  init = msg;
  nextTid = msg.tidBase;
  codecs = msg.codecs.map((n) => CODECS[n]);
  const tls = msg.tls;
  const server = syncHttpServer(tls, msg.handshakeTimeoutMs);
  server.on('upgrade', onUpgrade);
  server.on('request', onRequest);
  server.on('clientError', onClientError);
  server.on('tlsClientError', onTlsClientError);
  httpServer = server;
  wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: msg.maxFrameBytes, clientTracking: false, handleProtocols });
}

function clientOf(s: object): Client | undefined {
  const own = (s as Tagged)[kClient];
  if (own !== undefined) return own;
  const parent = (s as { _parent?: object })._parent;
  return parent !== undefined && parent !== null ? (parent as Tagged)[kClient] : undefined;
}

/** The main process's listening socket: this worker accepts on it too (`listening` when it does). */
function listen(msg: WorkerListen, handle: unknown): void {
  // Always an answer: the main process keeps track of who listens from these.
  if (!accepting || handle === undefined) {
    (handle as { close?: () => void } | undefined)?.close?.();
    emit({ t: 'listen-error', message: accepting ? 'the listening socket did not arrive' : 'not accepting (draining or stopping)' });
    return;
  }
  if (listener !== undefined) {
    (handle as { close?: () => void }).close?.(); // already listening on the same socket
    emit({ t: 'listening' });
    return;
  }
  const server = net.createServer({ pauseOnConnect: true, noDelay: true });
  listener = server;
  server.on('connection', onAccept);
  server.on('error', (err) => {
    // Node's net.Server reports accept errors here too (EMFILE…); it keeps listening after those.
    if (server.listening) emit({ t: 'log', level: 'warn', msg: `accepting a connection failed: ${err.message}` });
    else {
      if (listener === server) listener = undefined;
      emit({ t: 'listen-error', message: err.message });
    }
  });
  server.listen(handle as net.ListenOptions, msg.backlog, () => emit({ t: 'listening' }));
}

function unlisten(): void {
  listener?.close();
  listener = undefined;
}

/** Accepted: paused until the main process's accept gate answers (`admit` / `refuse`). */
function onAccept(socket: Socket): void {
  const source = socket.remoteAddress;
  if (source === undefined) {
    socket.destroy(); // already gone
    return;
  }
  const tid = ++nextTid;
  const onClose = (): void => {
    if (waiting.delete(tid)) emit({ t: 'tcpclose', tid });
  };
  waiting.set(tid, { socket, onClose });
  socket.on('error', ignoreError);
  socket.once('close', onClose);
  emit({ t: 'accepted', tid, source });
}

function admit(tid: number): void {
  const w = waiting.get(tid);
  if (w === undefined) return;
  waiting.delete(tid);
  const socket = w.socket;
  socket.removeListener('close', w.onClose);
  socket.removeListener('error', ignoreError);
  onConn(tid, socket);
  if (!socket.destroyed && socket.isPaused()) socket.resume();
}

function refuse(tid: number, status: number, body: string): void {
  const socket = waiting.get(tid)?.socket;
  if (socket === undefined) return;
  if (status === 0) socket.destroy();
  else refuseAccepted(socket, status, body, { 'Retry-After': '1' }, init.closeGraceMs, realClock);
}

function onConn(tid: number, socket: Socket): void {
  // The peer was gone by the time the handle arrived: Node hands over a socket already
  // destroyed, whose 'close' will not come. Say it closed, or the main process counts it open.
  if (socket.destroyed) {
    emit({ t: 'tcpclose', tid });
    return;
  }
  const c: Client = {
    tid,
    socket,
    ws: undefined,
    out: socket,
    writer: directWriter,
    written: 0,
    flushed: 0,
    reportedFlushed: 0,
    pendingLengths: [],
    live: false,
    liveRevision: 0,
    awaitingDrain: false,
    requested: false,
    flushedDirty: false,
    onFlushed: () => undefined,
  };
  c.onFlushed = () => {
    c.flushed += c.pendingLengths.shift() ?? 0;
    // Report only when the main process may be waiting for it: it counts at least what was
    // written and not reported as still buffered, so with more than half the mark unreported
    // its pump may have stopped; once at most half the mark is really left, say so.
    const half = init.highWaterMarkBytes / 2;
    if (c.written - c.reportedFlushed > half && c.written - c.flushed <= half) markFlushed(c);
  };
  (socket as Tagged)[kClient] = c;
  clients.set(tid, c);
  socket.setNoDelay(true);
  socket.on('error', ignoreError);
  socket.on('drain', onSocketDrain);
  socket.once('close', onTcpClose);
  if (!accepting) {
    socket.destroy();
    return;
  }
  if (init.tls === undefined) httpServer.emit('connection', socket);
  else socket.once('data', onFirstBytes);
}

function onFirstBytes(this: Socket, chunk: Buffer): void {
  this.pause();
  this.unshift(chunk);
  if (this.destroyed) return;
  httpServer.emit('connection', this);
}

/** The socket's buffer emptied (live writes included): the main process's estimate goes down. */
function onSocketDrain(this: Socket): void {
  const c = clientOf(this);
  if (c === undefined || !c.awaitingDrain) return;
  c.awaitingDrain = false;
  markFlushed(c);
}

function markFlushed(c: Client): void {
  if (c.flushedDirty) return;
  c.flushedDirty = true;
  dirty.add(c);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushOutbox);
  }
}

function onTcpClose(this: Socket): void {
  const c = clientOf(this);
  if (c === undefined) return;
  leaveLive(c);
  clients.delete(c.tid);
  dirty.delete(c);
  emit({ t: 'tcpclose', tid: c.tid });
}

function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const c = clientOf(socket);
  if (c === undefined) {
    socket.destroy();
    return;
  }
  c.requested = true;
  emit({ t: 'upreq', tid: c.tid });
  const tls = init.tls;
  const verdict = upgradeVerdict(req, accepting, tls?.ca !== undefined ? tls : undefined, codecs);
  if (!('codec' in verdict)) {
    if (verdict.identity === true)
      emit({ t: 'log', level: 'warn', msg: `refused a client certificate from ${req.socket.remoteAddress ?? '?'}: ${verdict.body}` });
    emit({ t: 'refused', tid: c.tid, reason: verdict.reason });
    refuseUpgrade(socket, verdict.status, verdict.body, verdict.headers);
    return;
  }
  (req as unknown as { codec: Codec }).codec = verdict.codec;
  try {
    wss.handleUpgrade(req, socket, head, (ws) => onOpen(c, ws, req, verdict.codec));
  } catch (err) {
    emit({ t: 'log', level: 'warn', msg: 'WebSocket upgrade failed', err: String(err) });
    socket.destroy();
  }
}

function handleProtocols(_offered: Set<string>, req: http.IncomingMessage): string | false {
  return (req as unknown as { codec?: Codec }).codec?.subprotocol ?? false;
}

function onOpen(c: Client, ws: WebSocket, req: http.IncomingMessage, codec: Codec): void {
  c.ws = ws;
  c.writer = supportsDirectWrites(ws) ? directWriter : wsSendWriter;
  c.out = rawSocket(ws) ?? c.socket;
  if (c.out !== c.socket) c.out.on('drain', onSocketDrain);
  (ws as unknown as Tagged)[kClient] = c;
  ws.on('message', wsOnMessage);
  ws.on('close', wsOnClose);
  ws.on('error', wsOnError);
  ws.on('ping', wsOnActivity);
  ws.on('pong', wsOnActivity);
  emit({ t: 'open', tid: c.tid, codec: codec.name, remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}` });
}

function wsOnMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[]): void {
  const c = (this as unknown as Tagged)[kClient] as Client;
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  emit({ t: 'msg', tid: c.tid, data: buf });
}

function wsOnActivity(this: WebSocket): void {
  emit({ t: 'act', tid: ((this as unknown as Tagged)[kClient] as Client).tid });
}

function wsOnError(this: WebSocket, err: Error & { code?: string }): void {
  emit({ t: 'error', tid: ((this as unknown as Tagged)[kClient] as Client).tid, code: err.code ?? '', message: err.message });
}

function wsOnClose(this: WebSocket, code: number, reason: Buffer): void {
  const c = (this as unknown as Tagged)[kClient] as Client;
  leaveLive(c);
  emit({ t: 'close', tid: c.tid, code, reason: reason.toString('utf8') });
}

function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  const c = clientOf(req.socket);
  if (c !== undefined) {
    c.requested = true;
    emit({ t: 'upreq', tid: c.tid });
    emit({ t: 'refused', tid: c.tid, reason: 'not-upgrade' });
  }
  res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket', Connection: 'close' });
  res.end(`this is the Typha sync endpoint: connect with a WebSocket to ${SYNC_PATH}\n`);
}

function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const code = err.code ?? '';
  const c = clientOf(socket);
  if (code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE' && socket.writable) {
    if (c !== undefined) {
      c.requested = true;
      emit({ t: 'upreq', tid: c.tid });
      emit({ t: 'refused', tid: c.tid, reason: 'bad-request' });
    }
    refuseUpgrade(socket, code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, `not a valid HTTP request (${code}): connect with a WebSocket to ${SYNC_PATH}`);
  } else {
    socket.destroy();
  }
}

function onTlsClientError(_err: Error, socket: TLSSocket): void {
  const c = clientOf(socket);
  if (c !== undefined) emit({ t: 'refused', tid: c.tid, reason: 'tls' });
}

function leaveLive(c: Client): void {
  c.live = false;
}

function write(c: Client, payload: Buffer, binary: boolean): void {
  const ws = c.ws;
  if (ws === undefined || ws.readyState !== 1) return;
  c.written += payload.length;
  c.pendingLengths.push(payload.length);
  if (c.writer === directWriter) {
    // As directWriter.write, with a callback on the last write: its bytes count as flushed
    // once the kernel took them.
    const socket = c.out;
    socket.cork();
    socket.write(frameHeader(payload.length, binary));
    socket.write(payload, c.onFlushed);
    socket.uncork();
  } else {
    ws.send(payload, { binary }, c.onFlushed);
  }
}

/** A `lives` command: the run to each live client listed, one write each. */
function writeLives(ids: readonly number[], binary: boolean, revision: number, tids: readonly number[]): void {
  const payloads: Buffer[] = [];
  for (const id of ids) {
    const data = frames.get(id);
    if (data === undefined) {
      // Cannot happen (the main process sends a frame before naming it); if it did, these
      // clients must not miss the run: they fall behind and catch up from the cache.
      emit({ t: 'log', level: 'error', msg: `live write: frame ${id} is not held; its clients catch up` });
      for (const tid of tids) {
        const c = clients.get(tid);
        if (c !== undefined && c.live) reportBehind(c);
      }
      return;
    }
    payloads.push(data);
  }
  let wire: Buffer | undefined;
  const hwm = init.highWaterMarkBytes;
  for (const tid of tids) {
    const c = clients.get(tid);
    if (c === undefined || !c.live) continue;
    const ws = c.ws;
    if (ws === undefined || ws.readyState !== 1) {
      c.live = false;
      continue;
    }
    if (ws.bufferedAmount > hwm) {
      reportBehind(c);
      continue;
    }
    if (c.writer === directWriter) c.out.write((wire ??= runWire(payloads, binary)));
    else for (const payload of payloads) ws.send(payload, { binary });
    c.liveRevision = revision;
  }
}

function runWire(payloads: readonly Buffer[], binary: boolean): Buffer {
  if (payloads.length === 1) return wireFrame(payloads[0], binary);
  return Buffer.concat(payloads.map((p) => wireFrame(p, binary)));
}

/** Out of the live state; the main process catches it up from the last revision written. */
function reportBehind(c: Client): void {
  c.live = false;
  // The main process counts what is still buffered as its own: report again once it drained.
  if ((c.ws?.bufferedAmount ?? 0) > 0) c.awaitingDrain = true;
  emit({ t: 'behind', tid: c.tid, revision: c.liveRevision, buffered: c.ws?.bufferedAmount ?? c.socket.writableLength });
}

function command(cmd: WorkerCommand): void {
  switch (cmd.t) {
    case 'frame':
      frames.set(cmd.id, cmd.data);
      return;
    case 'forget':
      frames.delete(cmd.id);
      return;
    case 'write': {
      const c = clients.get(cmd.tid);
      if (c === undefined) return;
      if (cmd.data !== undefined) {
        write(c, cmd.data, cmd.binary);
        return;
      }
      for (const id of cmd.ids ?? []) {
        const data = frames.get(id);
        if (data === undefined) {
          emit({ t: 'log', level: 'error', msg: `write to client ${cmd.tid}: frame ${id} is not held; closing it` });
          c.ws?.close(1011, 'internal server error; reconnect');
          return;
        }
        write(c, data, cmd.binary);
      }
      return;
    }
    case 'close': {
      const c = clients.get(cmd.tid);
      if (c === undefined) return;
      leaveLive(c);
      try {
        c.ws?.close(cmd.code, cmd.reason);
      } catch {
        c.ws?.terminate();
      }
      return;
    }
    case 'terminate': {
      const c = clients.get(cmd.tid);
      if (c === undefined) return;
      leaveLive(c);
      if (c.ws !== undefined) c.ws.terminate();
      else c.socket.destroy();
      return;
    }
    case 'destroy':
      (clients.get(cmd.tid)?.socket ?? waiting.get(cmd.tid)?.socket)?.destroy();
      return;
    case 'admit':
      admit(cmd.tid);
      return;
    case 'refuse':
      refuse(cmd.tid, cmd.status, cmd.body);
      return;
    case 'unlisten':
      unlisten();
      return;
    case 'expire': {
      const c = clients.get(cmd.tid);
      // The request may have arrived here after the main process's deadline passed: too late
      // to refuse an upgraded socket, and not overdue after all.
      if (c === undefined || c.requested || c.ws !== undefined) return;
      emit({ t: 'refused', tid: c.tid, reason: 'upgrade-timeout' });
      if (init.tls !== undefined) c.socket.destroy();
      else refuseUpgrade(c.socket, 408, cmd.body);
      return;
    }
    case 'live+': {
      const c = clients.get(cmd.tid);
      if (c === undefined || c.ws === undefined) return;
      c.live = true;
      c.liveRevision = cmd.revision;
      return;
    }
    case 'live-': {
      const c = clients.get(cmd.tid);
      if (c !== undefined && c.live) reportBehind(c);
      return;
    }
    case 'lives':
      writeLives(cmd.ids, cmd.binary, cmd.revision, cmd.tids);
      return;
    case 'ack':
      emit({ t: 'acked', n: cmd.n });
      return;
    case 'accepting':
      accepting = cmd.accepting;
      return;
    case 'stop':
      stop();
      return;
  }
}

function stop(): void {
  accepting = false;
  unlisten();
  for (const w of waiting.values()) w.socket.destroy();
  for (const c of clients.values()) c.socket.destroy();
  flushOutbox();
  // Exiting closes the channel; disconnect() first races Node's own handling of queued messages.
  setImmediate(() => process.exit(0));
}

function ignoreError(): void {
  // The peer went away; 'close' follows.
}

process.on('message', (msg: WorkerInit | WorkerListen | WorkerCommand[], handle?: unknown) => {
  if (Array.isArray(msg)) {
    for (const cmd of msg) {
      try {
        command(cmd);
      } catch (err) {
        emit({ t: 'log', level: 'error', msg: `fan-out worker command ${cmd.t} failed`, err: String(err instanceof Error ? err.stack : err) });
      }
    }
    return;
  }
  if (msg.t === 'init') start(msg);
  else if (msg.t === 'listen') listen(msg, handle);
});
process.on('disconnect', () => process.exit(0));
