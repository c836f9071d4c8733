/**
 * The first gate a TCP connection meets, in front of TLS, HTTP and WebSocket: how many
 * connections one source address holds, and how many connections are still in their
 * handshake. The sync server's own `net.Server` accepts, asks the gate, and only then hands the
 * socket to the http(s) server (`server.emit('connection', socket)`), so a refused connection
 * never gets a TLS context, an HTTP parser or a WebSocket.
 *
 *   accept ─▶ admit(socket) ─┬─ over maxConnectionsPerSource ─▶ 'per-source'          (429; TLS: closed)
 *                            ├─ over maxPendingHandshakes    ─▶ 'pending-handshakes'  (503; TLS: closed)
 *                            └─ Admission: counted for its source and as pending ─▶ TLS / HTTP / ws
 *   upgrade request complete ─▶ Admission.upgradeRequested()  (else, upgradeTimeoutMs after
 *                                accept, takeExpired() hands it to the server: 408 / closed)
 *   hello received ─▶ Admission.helloReceived(): no longer pending
 *   socket 'close' ─▶ uncounted (for its source; as pending if it still was)
 *
 * Pending is every stage before the protocol's hello: the TLS handshake (bounded by
 * handshakeTimeoutMs), the HTTP upgrade request (upgradeTimeoutMs from accept, the TLS
 * handshake included) and an open WebSocket without a hello (handshakeTimeoutMs). The upgrade
 * deadline is the gate's, not Node's `headersTimeout`: Node checks that only for an
 * http.Server that listens itself, which this one does not. Deadlines are the accept time plus
 * one constant, so they expire in accept order: a queue in accept order, checked from its head
 * on the server's tick, costs nothing per connection that upgrades in time.
 *
 * Those stages are what an attacker can hold for free, and what costs the server memory before
 * it knows who the client is: under TLS ~60 KB of native memory per handshake, which glibc
 * keeps after it is freed (see docs/DESIGN.md, "Hostile clients"). So the pending limit bounds
 * that footprint; the per-source limit keeps one host from taking the pending budget or the
 * replica. (A TLS socket gets its TLS state only once it sends: see sync-server.ts.)
 *
 * Refusing the newcomer, rather than evicting the oldest pending connection to make room, keeps
 * the rule simple and predictable for agents (a refused agent backs off and tries again or
 * another replica); eviction would let a fast attacker churn out legitimate slow handshakes.
 *
 * State per admitted socket is one Admission (tagged on the socket, in one Set for stop()); per
 * source, one Map entry that is deleted when its count reaches zero, so nothing outlives the
 * connections it counts.
 */
import type { Socket } from 'node:net';
import type { ServerMetrics } from '../metrics/server-metrics.js';

export type AcceptRefusal = 'per-source' | 'pending-handshakes';

export interface AcceptLimits {
  /** 0: no limit. */
  readonly maxConnectionsPerSource: number;
  /** 0: no limit. */
  readonly maxPendingHandshakes: number;
  readonly upgradeTimeoutMs: number;
}

/** What the gate holds of a socket: a net.Socket, or a fan-out worker's stand-in (fanout-pool.ts). */
export interface GateSocket {
  destroy(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

const kAdmission = Symbol('typha.server.admission');
type Tagged = { [kAdmission]?: Admission };

/** One admitted TCP connection: its source and how far it is in its handshake. */
export class Admission {
  readonly gate: AcceptGate;
  readonly socket: GateSocket;
  readonly source: string;
  readonly acceptedAt: number;
  /** Its HTTP upgrade request has not arrived complete yet. */
  upgrading = true;
  /** It has not sent its hello yet. */
  pending = true;
  open = true;

  constructor(gate: AcceptGate, socket: GateSocket, source: string, acceptedAt: number) {
    this.gate = gate;
    this.socket = socket;
    this.source = source;
    this.acceptedAt = acceptedAt;
  }

  /** The upgrade request arrived complete (whatever the answer): the upgrade deadline no longer applies. */
  upgradeRequested(): void {
    this.upgrading = false;
    this.gate.advance();
  }

  /** The connection sent its hello: it no longer counts as pending. */
  helloReceived(): void {
    this.gate.settled(this);
  }
}

export class AcceptGate {
  readonly #limits: AcceptLimits;
  readonly #metrics: ServerMetrics;
  readonly #open = new Set<Admission>();
  readonly #bySource = new Map<string, number>();
  /** Admissions in accept order, from `#head` on; settled ones are skipped as the head reaches them. */
  #upgrading: Admission[] = [];
  #head = 0;
  #pending = 0;

  constructor(limits: AcceptLimits, metrics: ServerMetrics) {
    this.#limits = limits;
    this.#metrics = metrics;
  }

  /** Connections admitted and not yet closed. */
  get open(): number {
    return this.#open.size;
  }

  /** Of those, the ones that have not sent their hello. */
  get pending(): number {
    return this.#pending;
  }

  /** Distinct source addresses with an open connection. */
  get sources(): number {
    return this.#bySource.size;
  }

  /** Connections open from `source` (as `sourceAddress` spells it). */
  fromSource(source: string): number {
    return this.#bySource.get(source) ?? 0;
  }

  /** Counts `socket` in, or says why not. The caller refuses a refused socket; nothing is kept for it. */
  admit(socket: GateSocket, source: string, now: number): Admission | AcceptRefusal {
    const { maxConnectionsPerSource, maxPendingHandshakes } = this.#limits;
    const fromSource = this.#bySource.get(source) ?? 0;
    if (maxConnectionsPerSource > 0 && fromSource >= maxConnectionsPerSource) return 'per-source';
    if (maxPendingHandshakes > 0 && this.#pending >= maxPendingHandshakes) return 'pending-handshakes';
    const a = new Admission(this, socket, source, now);
    (socket as Tagged)[kAdmission] = a;
    this.#open.add(a);
    this.#upgrading.push(a);
    this.#bySource.set(source, fromSource + 1);
    this.#pending++;
    this.#metrics.pendingHandshakes(1);
    socket.once('close', socketOnClose);
    return a;
  }

  /**
   * The open connections whose upgrade request is not complete `upgradeTimeoutMs` after accept,
   * oldest first; they leave the queue (the caller closes them).
   */
  takeExpired(now: number): Admission[] {
    const q = this.#upgrading;
    const deadline = now - this.#limits.upgradeTimeoutMs;
    const expired: Admission[] = [];
    for (let i = this.#head; i < q.length; i++) {
      const a = q[i];
      if (!a.open || !a.upgrading) continue;
      if (a.acceptedAt > deadline) break;
      a.upgrading = false;
      expired.push(a);
    }
    this.advance();
    return expired;
  }

  /**
   * Moves the queue's head past connections that are closed or past their upgrade, so the queue
   * holds at most what was accepted within upgradeTimeoutMs after its oldest upgrading entry,
   * and nothing once every connection is through or gone.
   */
  advance(): void {
    const q = this.#upgrading;
    let i = this.#head;
    while (i < q.length && (!q[i].open || !q[i].upgrading)) i++;
    if (i === q.length) {
      if (q.length > 0) this.#upgrading = [];
      this.#head = 0;
    } else if (i > 1024 && i * 2 > q.length) {
      this.#upgrading = q.slice(i);
      this.#head = 0;
    } else {
      this.#head = i;
    }
  }

  /** Connections in the upgrade-deadline queue (closed ones not yet passed by its head included). */
  get queued(): number {
    return this.#upgrading.length - this.#head;
  }

  /** Cuts every open connection still before its upgrade request (drain: they would be refused anyway). */
  destroyUpgrading(): void {
    for (const a of this.#open) if (a.upgrading) a.socket.destroy();
  }

  /** Cuts every admitted connection (the hard stop). */
  destroyAll(): void {
    for (const a of this.#open) a.socket.destroy();
  }

  // ── called by Admission and the socket handler ──────────────────────────────────────────────

  settled(a: Admission): void {
    if (!a.pending) return;
    a.pending = false;
    this.#pending--;
    this.#metrics.pendingHandshakes(-1);
  }

  closed(a: Admission): void {
    if (!this.#open.delete(a)) return;
    a.open = false;
    this.settled(a);
    this.advance();
    const n = (this.#bySource.get(a.source) ?? 1) - 1;
    if (n > 0) this.#bySource.set(a.source, n);
    else this.#bySource.delete(a.source);
  }
}

/** The address a connection is counted under: IPv4-mapped IPv6 addresses as plain IPv4. */
export function sourceAddress(socket: Socket): string | undefined {
  const a = socket.remoteAddress;
  return a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * The Admission of the TCP socket under `socket`: the socket itself for plain HTTP; under TLS,
 * the TLSSocket's `_parent`, the net.Socket it wraps (a Node internal, stable since Node 0.11
 * and checked by the TLS tests: without it a TLS client would stay pending until it closed).
 */
export function admissionOf(socket: object): Admission | undefined {
  const own = (socket as Tagged)[kAdmission];
  if (own !== undefined) return own;
  const parent = (socket as { _parent?: unknown })._parent;
  return typeof parent === 'object' && parent !== null ? (parent as Tagged)[kAdmission] : undefined;
}

function socketOnClose(this: GateSocket): void {
  const a = (this as Tagged)[kAdmission];
  a?.gate.closed(a);
}
