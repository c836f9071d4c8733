/**
 * Hostile clients for the attack benchmark (`bench/src/hostile.ts`) and the server's tests: raw TCP
 * sockets that each misbehave in one way, so what a server keeps per connection shows.
 *
 *   silent      connects and sends nothing (holds an accepted socket and its HTTP parser)
 *   no-hello    completes the WebSocket upgrade, then never sends the protocol's hello
 *   slowloris   sends an upgrade request's headers one byte at a time, never finishing them
 *   non-reader  upgrades, says hello (syncer felix), then never reads: the server's snapshot
 *               and pings pile up in its socket buffers
 *
 * One `AttackSwarm` owns every socket it opens, opens them with a bounded number of connects in
 * flight, drives the slowloris bytes from one timer for all of them, and `end()` destroys them
 * all. Socket events go to named module-level handlers (no closure per socket). Every socket
 * records what it saw: connected, the HTTP status of a refusal (429/503/408…), and whether the
 * server or we closed it. Loopback only: `localAddress` picks the source address the server
 * sees (127.0.0.2, … to stand for other hosts).
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { SYNC_PATH } from '../protocol/index.js';
import { helloFrame, upgradeRequest } from './client-frames.js';

export type AttackKind = 'silent' | 'no-hello' | 'slowloris' | 'non-reader';
export const ATTACK_KINDS: readonly AttackKind[] = ['silent', 'no-hello', 'slowloris', 'non-reader'];

export interface AttackTarget {
  host: string;
  port: number;
  /** Source addresses, used round-robin (default: the system's choice, 127.0.0.1 on loopback). */
  localAddresses?: readonly string[];
  /**
   * A TLS server: every attacker but `silent` completes the TLS handshake with these (a client
   * certificate the server takes: a misbehaving agent, not a stranger). `silent` stays plain TCP
   * and never sends a ClientHello, which is the cheapest way to hold a TLS server's socket.
   */
  tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key'>;
}

export interface KindReport {
  opened: number;
  connected: number;
  /** Answered with an HTTP status other than 101 (e.g. 429, 503, 408), by status. */
  refused: Record<string, number>;
  /** Upgraded (101 seen) — for no-hello; non-readers never read their answer. */
  upgraded: number;
  /** Closed before `end()`: by the server (FIN or RST) or a connect error. */
  closedEarly: number;
  errors: Record<string, number>;
}

const kAttacker = Symbol('bench.attacker');
type Tagged = Socket & { [kAttacker]: Attacker };

interface Attacker {
  readonly swarm: AttackSwarm;
  readonly kind: AttackKind;
  readonly socket: Tagged;
  /** The first bytes the server answered (status line only). */
  head: string;
  connected: boolean;
  closed: boolean;
  /** Slowloris: how many header bytes were sent so far. */
  sent: number;
}

/** What slowloris trickles after the request line: header bytes that never end with a blank line. */
const TRICKLE = Buffer.from('X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');

export interface SwarmOptions {
  /** Connects in flight at most (default 200): the kernel's accept queue is not the subject here. */
  maxConnecting?: number;
  /** Slowloris: one header byte per socket every this many ms (default 1000). */
  trickleMs?: number;
}

export class AttackSwarm {
  readonly target: AttackTarget;
  readonly #attackers: Attacker[] = [];
  readonly #reports = new Map<AttackKind, KindReport>();
  readonly #queue: AttackKind[] = [];
  readonly #maxConnecting: number;
  readonly #trickleMs: number;
  #connecting = 0;
  #nextSource = 0;
  #trickle: NodeJS.Timeout | undefined;
  #ended = false;
  #waiters: Array<() => void> = [];

  constructor(target: AttackTarget, opts: SwarmOptions = {}) {
    this.target = target;
    this.#maxConnecting = opts.maxConnecting ?? 200;
    this.#trickleMs = opts.trickleMs ?? 1000;
    for (const k of ATTACK_KINDS) this.#reports.set(k, { opened: 0, connected: 0, refused: {}, upgraded: 0, closedEarly: 0, errors: {} });
  }

  /** Queues `n` attackers of `kind`; they connect as slots free up. */
  add(kind: AttackKind, n: number): void {
    for (let i = 0; i < n; i++) this.#queue.push(kind);
    this.#pump();
    if (kind === 'slowloris' && this.#trickle === undefined) {
      this.#trickle = setInterval(swarmOnTrickle, this.#trickleMs, this);
    }
  }

  /** Queues attackers of every kind interleaved in proportion, as attackers running at once would arrive. */
  addMix(counts: Partial<Record<AttackKind, number>>): void {
    const order: Array<[number, AttackKind]> = [];
    for (const kind of ATTACK_KINDS) {
      const n = counts[kind] ?? 0;
      for (let j = 0; j < n; j++) order.push([(j + 0.5) / n, kind]);
    }
    order.sort((a, b) => a[0] - b[0]);
    for (const [, kind] of order) this.add(kind, 1);
  }

  /** Resolves once every queued attacker has connected or failed to. */
  settled(): Promise<void> {
    if (this.#queue.length === 0 && this.#connecting === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Attackers still open, by kind. */
  open(): Record<AttackKind, number> {
    const out = { silent: 0, 'no-hello': 0, slowloris: 0, 'non-reader': 0 };
    for (const a of this.#attackers) if (!a.closed) out[a.kind]++;
    return out;
  }

  report(): Record<AttackKind, KindReport> {
    return Object.fromEntries(this.#reports) as Record<AttackKind, KindReport>;
  }

  /** Destroys every socket (RST where data is unread) and stops the trickle. */
  end(): void {
    this.#ended = true;
    this.#queue.length = 0;
    clearInterval(this.#trickle);
    this.#trickle = undefined;
    for (const a of this.#attackers) a.socket.destroy();
    this.#settle();
  }

  // ── internals, called by the module-level handlers ──────────────────────────────────────────

  #pump(): void {
    while (!this.#ended && this.#connecting < this.#maxConnecting && this.#queue.length > 0) {
      this.#open(this.#queue.shift() as AttackKind);
    }
    this.#settle();
  }

  #settle(): void {
    if (this.#connecting > 0 || (this.#queue.length > 0 && !this.#ended)) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #open(kind: AttackKind): void {
    const t = this.target;
    const sources = t.localAddresses ?? [];
    const localAddress = sources.length > 0 ? sources[this.#nextSource++ % sources.length] : undefined;
    const secure = t.tls !== undefined && kind !== 'silent';
    const tcp = connect({ host: t.host, port: t.port, localAddress, noDelay: true });
    const socket = (secure ? tlsConnect({ socket: tcp, host: t.host, ...t.tls }) : tcp) as Tagged;
    const a: Attacker = { swarm: this, kind, socket, head: '', connected: false, closed: false, sent: 0 };
    socket[kAttacker] = a;
    this.#attackers.push(a);
    this.#reports.get(kind)!.opened++;
    this.#connecting++;
    socket.on(secure ? 'secureConnect' : 'connect', attackerOnConnect);
    socket.on('error', attackerOnError);
    socket.on('close', attackerOnClose);
    if (kind !== 'non-reader') socket.on('data', attackerOnData);
  }

  connected(a: Attacker): void {
    a.connected = true;
    this.#connecting--;
    this.#reports.get(a.kind)!.connected++;
    const t = this.target;
    switch (a.kind) {
      case 'silent':
        break;
      case 'no-hello':
        a.socket.write(upgradeRequest(t.host, t.port));
        break;
      case 'slowloris':
        a.socket.write(`GET ${SYNC_PATH} HTTP/1.1\r\n`);
        break;
      case 'non-reader':
        // Request and hello in one write; the socket is never read (paused from the start).
        a.socket.write(Buffer.concat([Buffer.from(upgradeRequest(t.host, t.port)), helloFrame(`non-reader-${this.#attackers.length}`)]));
        break;
    }
    this.#pump();
  }

  data(a: Attacker, chunk: Buffer): void {
    if (a.head.length >= 12) return;
    a.head += chunk.toString('latin1', 0, Math.min(chunk.length, 12 - a.head.length));
    if (a.head.length < 12) return;
    const status = /^HTTP\/1\.1 (\d{3})/.exec(a.head)?.[1] ?? '?';
    const r = this.#reports.get(a.kind)!;
    if (status === '101') r.upgraded++;
    else r.refused[status] = (r.refused[status] ?? 0) + 1;
  }

  failed(a: Attacker, err: NodeJS.ErrnoException): void {
    const r = this.#reports.get(a.kind)!;
    const code = err.code ?? 'error';
    r.errors[code] = (r.errors[code] ?? 0) + 1;
  }

  closed(a: Attacker): void {
    if (a.closed) return;
    a.closed = true;
    if (!a.connected) {
      this.#connecting--;
      this.#pump();
    }
    if (!this.#ended) this.#reports.get(a.kind)!.closedEarly++;
  }

  trickle(): void {
    for (const a of this.#attackers) {
      if (a.kind !== 'slowloris' || !a.connected || a.closed) continue;
      a.socket.write(TRICKLE.subarray(a.sent % TRICKLE.length, (a.sent % TRICKLE.length) + 1));
      a.sent++;
    }
  }
}

function attackerOf(s: Socket): Attacker {
  return (s as Tagged)[kAttacker];
}

function attackerOnConnect(this: Socket): void {
  const a = attackerOf(this);
  a.swarm.connected(a);
}

function attackerOnData(this: Socket, chunk: Buffer): void {
  const a = attackerOf(this);
  a.swarm.data(a, chunk);
}

function attackerOnError(this: Socket, err: NodeJS.ErrnoException): void {
  const a = attackerOf(this);
  a.swarm.failed(a, err);
}

function attackerOnClose(this: Socket): void {
  const a = attackerOf(this);
  a.swarm.closed(a);
}

function swarmOnTrickle(swarm: AttackSwarm): void {
  swarm.trickle();
}
