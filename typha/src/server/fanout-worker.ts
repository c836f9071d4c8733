/**
 * A fan-out worker process (TYPHA_FANOUTWORKERS > 1): it holds a share of the clients' sockets
 * and writes to them; the main process decides everything (see `fanout-pool.ts`).
 *
 *   main ──conn + TCP handle──▶ [TLS: on first bytes] ─▶ http(s) upgrade request ─▶ upgradeVerdict
 *        ──commands (batched)─▶ write / close / live sets / publish
 *   worker ──events (batched)─▶ upreq, refused, open, msg, act, error, close, tcpclose, flushed, behind
 *
 * Live sets. A client the main process made live is in the set `syncer/frameKind`; `publish`
 * writes the batch's frame (header + payload built once per worker) to every member, exactly
 * as FanOut does in-process, and a member over the high-water mark leaves the set and is
 * reported `behind` with the revision of the last batch it was written: the main process
 * catches it up from the cache from there.
 *
 * Flow control of per-client writes (hello, snapshot pages, catch-up): the main process counts
 * what it sent; each write here carries a callback that counts the bytes once the kernel took
 * them, reported as `flushed` (one event per client per turn at most), so the main process's
 * estimate of the client's buffer only errs on the high side.
 *
 * The worker exits when its IPC channel closes (the main process is gone) or on `stop`.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { CODECS } from '../protocol/codecs.js';
import type { Codec } from '../protocol/codec.js';
import { SYNC_PATH } from '../protocol/transport.js';
import { directWriter, frameHeader, rawSocket, supportsDirectWrites, wireFrame, wsSendWriter, type FrameWriter } from './frame-writer.js';
import type { WorkerCommand, WorkerConn, WorkerEvent, WorkerInit } from './fanout-protocol.js';
import { refuseUpgrade, syncHttpServer, upgradeVerdict } from './upgrade.js';

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
  /** Lengths of per-client writes not yet flushed, oldest first. */
  readonly pendingLengths: number[];
  liveKey: string | undefined;
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
const frames = new Map<number, Buffer>();
const liveSets = new Map<string, Set<Client>>();
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
    pendingLengths: [],
    liveKey: undefined,
    liveRevision: 0,
    awaitingDrain: false,
    requested: false,
    flushedDirty: false,
    onFlushed: () => undefined,
  };
  c.onFlushed = () => {
    c.flushed += c.pendingLengths.shift() ?? 0;
    markFlushed(c);
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
  if (c.liveKey === undefined) return;
  liveSets.get(c.liveKey)?.delete(c);
  c.liveKey = undefined;
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

/** Batches published since the last flush, per live set: written together, one write per client. */
interface PendingPublish {
  readonly wires: Buffer[];
  readonly payloads: Buffer[];
  readonly binary: boolean;
  revision: number;
}
const pendingPublishes = new Map<string, PendingPublish>();
let publishFlushScheduled = false;

/**
 * Queues a batch for the live set `key`; flushPublishes writes every batch queued in this turn
 * with ONE write per client (the frames concatenated). This is the worker's backpressure: while
 * it writes to its clients, batches queue in its IPC channel and go out together on the next
 * turn, as the in-process fan-out coalesces batches in the DeltaBatcher while its loop is busy.
 * Without it a worker slower than the batch rate falls further behind with every batch.
 */
function queuePublish(key: string, payload: Buffer, binary: boolean, revision: number): void {
  let p = pendingPublishes.get(key);
  if (p === undefined || p.binary !== binary) {
    if (p !== undefined) flushPublishes();
    pendingPublishes.set(key, (p = { wires: [], payloads: [], binary, revision }));
  }
  p.wires.push(wireFrame(payload, binary));
  p.payloads.push(payload);
  p.revision = revision;
  if (!publishFlushScheduled) {
    publishFlushScheduled = true;
    setImmediate(flushPublishes);
  }
}

/** Writes what queuePublish queued (also before anything that changes a live set). */
function flushPublishes(): void {
  publishFlushScheduled = false;
  if (pendingPublishes.size === 0) return;
  for (const [key, p] of pendingPublishes) publish(key, p);
  pendingPublishes.clear();
}

function publish(key: string, p: PendingPublish): void {
  const set = liveSets.get(key);
  if (set === undefined || set.size === 0) return;
  const wire = p.wires.length === 1 ? p.wires[0] : Buffer.concat(p.wires);
  const hwm = init.highWaterMarkBytes;
  for (const c of set) {
    const ws = c.ws;
    if (ws === undefined || ws.readyState !== 1) {
      set.delete(c);
      c.liveKey = undefined;
      continue;
    }
    if (ws.bufferedAmount > hwm) {
      set.delete(c);
      c.liveKey = undefined;
      c.awaitingDrain = true;
      emit({ t: 'behind', tid: c.tid, revision: c.liveRevision, buffered: ws.bufferedAmount });
      continue;
    }
    if (c.writer === directWriter) c.out.write(wire);
    else for (const payload of p.payloads) ws.send(payload, { binary: p.binary });
    c.liveRevision = p.revision;
  }
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
      const data = cmd.data ?? (cmd.id !== undefined ? frames.get(cmd.id) : undefined);
      if (c === undefined) return;
      if (data === undefined) {
        emit({ t: 'log', level: 'error', msg: `write to client ${cmd.tid}: frame ${String(cmd.id)} is not held; closing it` });
        c.ws?.close(1011, 'internal server error; reconnect');
        return;
      }
      write(c, data, cmd.binary);
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
      clients.get(cmd.tid)?.socket.destroy();
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
      flushPublishes();
      const c = clients.get(cmd.tid);
      if (c === undefined || c.ws === undefined) return;
      leaveLive(c);
      let set = liveSets.get(cmd.key);
      if (set === undefined) liveSets.set(cmd.key, (set = new Set()));
      set.add(c);
      c.liveKey = cmd.key;
      c.liveRevision = cmd.revision;
      return;
    }
    case 'live-': {
      flushPublishes();
      const c = clients.get(cmd.tid);
      if (c !== undefined) leaveLive(c);
      return;
    }
    case 'publish': {
      const data = frames.get(cmd.id);
      if (data !== undefined) queuePublish(cmd.key, data, cmd.binary, cmd.revision);
      else {
        flushPublishes();
        demote(cmd.key);
      }
      return;
    }
    case 'demote':
      flushPublishes();
      demote(cmd.key);
      return;
    case 'accepting':
      accepting = cmd.accepting;
      return;
    case 'stop':
      stop();
      return;
  }
}

function demote(key: string): void {
  const set = liveSets.get(key);
  if (set === undefined) return;
  for (const c of set) {
    c.liveKey = undefined;
    c.awaitingDrain = true;
    emit({ t: 'behind', tid: c.tid, revision: c.liveRevision, buffered: c.ws?.bufferedAmount ?? 0 });
  }
  set.clear();
}

function stop(): void {
  accepting = false;
  pendingPublishes.clear();
  for (const c of clients.values()) c.socket.destroy();
  flushOutbox();
  // Exiting closes the channel; disconnect() first races Node's own handling of queued messages.
  setImmediate(() => process.exit(0));
}

function ignoreError(): void {
  // The peer went away; 'close' follows.
}

process.on('message', (msg: WorkerInit | WorkerConn | WorkerCommand[], handle?: unknown) => {
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
  else if (msg.t === 'conn') {
    // No handle: the socket closed in the main process before it was sent (Node sends the
    // message without one then). Say so, or the main process would count it open for ever.
    if (handle === undefined) emit({ t: 'tcpclose', tid: msg.tid });
    else onConn(msg.tid, handle as Socket);
  }
});
process.on('disconnect', () => process.exit(0));
