/**
 * The runner's side of the k6 conversation: a loopback HTTP server the VUs POST a TickReport to
 * every second; each answer carries the runner's current orders (Control). The runner waits on
 * the reports (all sockets in sync, every client at the writer's last revision) instead of
 * sleeping, and the reports become the run's timeline.
 *
 *   VU ─POST /tick {TickReport}─▶ ControlServer ─▶ Timeline (per second)
 *      ◀── 200 {Control} ─────────┘      └─▶ waiters: until(predicate) resolve on a report
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunTimeoutError } from './errors.js';
import { Timeline, type TickReport } from './timeline.js';

export interface Control {
  /** Close every socket and end the VU. */
  stop: boolean;
  /** Reconnect storm: a VU drops and reopens all its sockets when this exceeds what it has seen. */
  drop: number;
  /** The churn writer's last etcd revision (0 before it finished): clients must reach it. */
  lastRevision: number;
  writes: number;
  /** Slow consumers: latencies of writes stamped at or after this wall time are phase `slow`. */
  slowFromMs: number;
}

const MAX_BODY = 1 << 20;

export class ControlServer {
  readonly control: Control = { stop: false, drop: 0, lastRevision: 0, writes: 0, slowFromMs: 0 };
  readonly timeline: Timeline;
  readonly #server: Server;
  readonly #waiters = new Set<() => void>();
  #reports = 0;
  #badReports = 0;

  private constructor(startMs: number) {
    this.timeline = new Timeline(startMs);
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(startMs = Date.now()): Promise<ControlServer> {
    const s = new ControlServer(startMs);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get reports(): number {
    return this.#reports;
  }

  get badReports(): number {
    return this.#badReports;
  }

  /** Latest report of every VU that has reported. */
  get latest(): ReadonlyMap<number, TickReport> {
    return this.timeline.latest;
  }

  /** Sum of a numeric field over the latest report of every VU. */
  sum(field: 'open' | 'live' | 'everInSync' | 'sockets' | 'errors'): number {
    let n = 0;
    for (const r of this.latest.values()) n += r[field];
    return n;
  }

  /** Unasked closes by code, summed over VUs. */
  closeCodes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.latest.values()) for (const [k, n] of Object.entries(r.closeCodes ?? {})) out[k] = (out[k] ?? 0) + n;
    return out;
  }

  /** Lowest `minRevision` over VUs (0 if any VU has no live socket). */
  minRevision(): number {
    let min = Infinity;
    for (const r of this.latest.values()) if (r.minRevision < min) min = r.minRevision;
    return min === Infinity ? 0 : min;
  }

  /**
   * Resolves when `predicate()` holds, checked after every report; rejects after `timeoutMs`
   * with `what` in the message, or at once when `abort()` says the run is over (k6 exited).
   */
  until(predicate: () => boolean, timeoutMs: number, what: string, abort?: () => string | undefined): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const why = abort?.();
        if (predicate()) finish();
        else if (why !== undefined) finish(new RunTimeoutError(`${what}: ${why}`));
      };
      const timer = setTimeout(() => finish(new RunTimeoutError(`${what}: not within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.#waiters.add(check);
    });
  }

  /** Re-checks the waiters (call when something outside the reports changed, e.g. k6 exited). */
  poke(): void {
    for (const w of [...this.#waiters]) w();
  }

  phaseOf: (r: TickReport) => string = () => 'all';

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST' || req.url !== '/tick') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      try {
        if (size > MAX_BODY) throw new Error('report too large');
        const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TickReport;
        if (typeof r.vu !== 'number' || typeof r.at !== 'number') throw new Error('not a tick report');
        this.#reports++;
        this.timeline.add(r, this.phaseOf(r));
      } catch {
        this.#badReports++;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.control));
      this.poke();
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
