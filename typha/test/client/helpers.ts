/**
 * Test doubles for the client: a recording ClientCallbacks (and the shared FakeClock), and a small in-test
 * Typha that speaks the protocol by hand over a real WebSocket server on 127.0.0.1:0. (The real
 * server is tested separately; this one lets each test script exactly what the server says.)
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  codecForSubprotocol,
  parseClientMessage,
  selectSubprotocol,
  type ClientHello,
  type ClientMessage,
  type Codec,
  type ServerMessage,
  type Update,
} from '../../src/protocol/index.js';
import type { ClientCallbacks, ClientStatus, StatusDetail } from '../../src/client/index.js';
import { Waitable } from '../waitable.js';

export { FakeClock } from '../../src/testing/fake-clock.js';

/** A ClientCallbacks that records everything. */
export class Recorder implements ClientCallbacks {
  readonly statuses: Array<{ status: ClientStatus; detail: StatusDetail }> = [];
  readonly batches: Array<{ updates: Update[]; revision: number }> = [];
  readonly #w = new Waitable();

  onStatus(status: ClientStatus, detail: StatusDetail): void {
    this.statuses.push({ status, detail });
    this.#w.changed();
  }

  onUpdates(updates: Update[], revision: number): void {
    this.batches.push({ updates: [...updates], revision });
    this.#w.changed();
  }

  count(status: ClientStatus): number {
    return this.statuses.filter((s) => s.status === status).length;
  }

  /** Resolves with the detail of the n-th (1-based) `status`, when it has happened. */
  async nth(status: ClientStatus, n = 1): Promise<StatusDetail> {
    await this.#w.until(() => this.count(status) >= n);
    return this.statuses.filter((s) => s.status === status)[n - 1].detail;
  }

  until(pred: () => boolean): Promise<void> {
    return this.#w.until(pred);
  }

  names(): string[] {
    return this.statuses.map((s) => s.status);
  }
}

export class FakePeer {
  hello!: ClientHello;
  readonly ws: WebSocket;
  readonly protocol: string;
  readonly codec: Codec;
  readonly path: string | undefined;
  /** Client messages after the hello. */
  readonly received: ClientMessage[] = [];
  /** Whether each frame from the client was binary. */
  readonly frameBinary: boolean[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #w = new Waitable();

  constructor(ws: WebSocket, req: IncomingMessage) {
    this.ws = ws;
    this.protocol = ws.protocol;
    this.path = req.url;
    const codec = codecForSubprotocol(ws.protocol);
    if (codec === undefined) throw new Error(`no codec for ${ws.protocol}`);
    this.codec = codec;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  receive(msg: ClientMessage, isBinary: boolean): void {
    this.frameBinary.push(isBinary);
    if (msg.type === 'hello' && this.hello === undefined) this.hello = msg;
    else this.received.push(msg);
    this.#w.changed();
  }

  until(pred: (p: FakePeer) => boolean): Promise<void> {
    return this.#w.until(() => pred(this));
  }

  count(type: ClientMessage['type']): number {
    return this.received.filter((m) => m.type === type).length;
  }

  send(msg: ServerMessage): void {
    this.ws.send(this.codec.encode(msg), { binary: this.codec.binary });
  }

  /** ServerHello (mode snapshot), one SnapshotPage per entry of `pages`, InSync. */
  serveSnapshot(revision: number, pages: Update[][], o: { datastoreId?: string; server?: string; inSync?: boolean } = {}): void {
    this.send({
      type: 'hello',
      protocolVersion: 1,
      server: o.server ?? 'typha-a',
      datastoreId: o.datastoreId ?? 'ds-1',
      features: ['resume', 'goodbye'],
      mode: 'snapshot',
      revision,
    });
    pages.forEach((updates, page) => this.send({ type: 'snapshot', revision, page, last: page === pages.length - 1, updates }));
    if (o.inSync ?? true) this.send({ type: 'in-sync', revision });
  }

  /** ServerHello (mode resume), one Deltas with `updates`, InSync. */
  serveResume(revision: number, updates: Update[], o: { datastoreId?: string; server?: string } = {}): void {
    this.send({
      type: 'hello',
      protocolVersion: 1,
      server: o.server ?? 'typha-a',
      datastoreId: o.datastoreId ?? 'ds-1',
      features: ['resume', 'goodbye'],
      mode: 'resume',
      revision,
    });
    if (updates.length > 0) this.send({ type: 'deltas', revision, updates });
    this.send({ type: 'in-sync', revision });
  }

  close(code: number, reason = ''): void {
    this.ws.close(code, reason);
  }
}

export interface FakeTyphaOptions {
  /** Refuse the upgrade with this HTTP status. */
  rejectStatus?: number;
}

export class FakeTypha {
  readonly url: string;
  readonly port: number;
  readonly peers: FakePeer[] = [];
  readonly #wss: WebSocketServer;
  readonly #w = new Waitable();
  #taken = 0;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    const addr = wss.address();
    if (addr === null || typeof addr === 'string') throw new Error('unexpected address');
    this.port = addr.port;
    this.url = `ws://127.0.0.1:${addr.port}/sync`;
    wss.on('connection', (ws, req) => {
      const peer = new FakePeer(ws, req);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        peer.receive(parseClientMessage(peer.codec.decode(data)), isBinary);
        if (!this.peers.includes(peer)) {
          this.peers.push(peer);
          this.#w.changed();
        }
      });
    });
  }

  static async start(opts: FakeTyphaOptions = {}): Promise<FakeTypha> {
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      handleProtocols: (protocols) => selectSubprotocol(protocols)?.subprotocol ?? false,
      verifyClient: opts.rejectStatus === undefined ? undefined : (_info, cb) => cb(false, opts.rejectStatus, 'refused'),
    });
    await once(wss, 'listening');
    return new FakeTypha(wss);
  }

  /** The next connection (in arrival order) whose hello has arrived. */
  async nextPeer(): Promise<FakePeer> {
    const i = this.#taken++;
    await this.#w.until(() => this.peers.length > i);
    return this.peers[i];
  }

  /** Connections accepted at the WebSocket level, hello or not. */
  get connectionCount(): number {
    return this.#wss.clients.size;
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** A URL nothing listens on: a server started and closed again. */
export async function deadUrl(): Promise<string> {
  const t = await FakeTypha.start();
  await t.close();
  return t.url;
}

/** Lets pending I/O callbacks and microtasks run once. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A `random` that returns the given values in turn, then repeats the last. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

export function upd(kind: string, name: string, revision: number, spec?: Record<string, unknown>, namespace?: string): Update {
  const u: Update = { kind, name, revision };
  if (namespace !== undefined) u.namespace = namespace;
  if (spec !== undefined) u.value = { spec };
  return u;
}
