/**
 * A TCP proxy for tests: clients connect to `port`, every connection is piped to the target.
 * It plays the network between two programs, so a test can break that network the ways a real
 * one breaks:
 *
 *   open ──cut()────▶ cut      every live connection is reset (RST, both halves) and every new
 *     ▲                        one is reset as soon as it is accepted, until heal()
 *     ├──freeze()───▶ frozen   connections stay open but no byte moves either way, and a new
 *     │                        connection is accepted but not forwarded (like a SYN lost in a
 *     │                        partition); a close on one side is held back too. thaw() lets
 *     │                        everything through in order, as TCP retransmission would
 *     └──heal()/thaw() ◀─ both return to open from either state
 *
 *   cutAll()        reset every live connection once; new ones still work (a NAT dropping state)
 *   cutSome(n, rnd) reset n live connections picked with `rnd` (a test's seeded PRNG)
 *   setTarget(port) later connections go to another port (a restarted server on a new port)
 *
 * A plain destroy would send a polite FIN; a reset is what a client sees when a middlebox
 * drops it. Frozen bytes are kept in the sockets' buffers, not dropped: a thawed link delivers
 * them late, which is what makes a frozen peer dangerous (it answers with old news).
 */
import { createConnection, createServer, type Socket } from 'node:net';

export type LinkState = 'open' | 'cut' | 'frozen';

export interface TcpProxy {
  readonly port: number;
  /** Live client-side connections (held frozen ones included). */
  readonly connections: number;
  readonly state: LinkState;
  /** Destroys all current connections; the listener keeps accepting new ones. */
  cutAll(): void;
  /** Resets `count` live connections chosen with `random` ([0, 1) like Math.random); returns how many. */
  cutSome(count: number, random: () => number): number;
  /** Resets every connection and refuses new ones until heal(). */
  cut(): void;
  /** Holds every byte (and every new connection) until thaw(). */
  freeze(): void;
  /** Ends a cut or a freeze. */
  heal(): void;
  /** Same as heal(): the word for ending a freeze. */
  thaw(): void;
  /** New connections go to `port` from now on. */
  setTarget(port: number): void;
  close(): Promise<void>;
}

/** One proxied connection; `upstream` is undefined while a connection accepted frozen waits. */
interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** One side closed while frozen: tear down at thaw. */
  closedWhileFrozen: boolean;
}

class Proxy implements TcpProxy {
  port = 0;
  state: LinkState = 'open';
  readonly #pairs = new Set<Pair>();
  readonly #host: string;
  #targetPort: number;
  readonly #server = createServer((client) => this.#accept(client));

  constructor(host: string, port: number) {
    this.#host = host;
    this.#targetPort = port;
  }

  async listen(): Promise<void> {
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('tcp proxy: no port after listen');
    this.port = address.port;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  cutAll(): void {
    for (const pair of [...this.#pairs]) this.#reset(pair);
  }

  cutSome(count: number, random: () => number): number {
    const live = [...this.#pairs];
    let n = 0;
    while (n < count && live.length > 0) {
      const i = Math.floor(random() * live.length);
      this.#reset(live.splice(i, 1)[0]);
      n++;
    }
    return n;
  }

  cut(): void {
    this.state = 'cut';
    this.cutAll();
  }

  freeze(): void {
    if (this.state === 'cut') return;
    this.state = 'frozen';
    for (const pair of this.#pairs) stopFlow(pair);
  }

  heal(): void {
    const wasFrozen = this.state === 'frozen';
    this.state = 'open';
    if (!wasFrozen) return;
    for (const pair of [...this.#pairs]) {
      if (pair.upstream === undefined) this.#connectUpstream(pair);
      else startFlow(pair);
      if (pair.closedWhileFrozen) this.#teardown(pair);
    }
  }

  thaw(): void {
    this.heal();
  }

  setTarget(port: number): void {
    this.#targetPort = port;
  }

  close(): Promise<void> {
    for (const pair of [...this.#pairs]) this.#destroy(pair);
    return new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.state === 'cut') {
      client.on('error', () => undefined);
      reset(client);
      return;
    }
    const pair: Pair = { client, upstream: undefined, closedWhileFrozen: false };
    this.#pairs.add(pair);
    const onEnd = (): void => this.#teardown(pair);
    client.on('error', onEnd).on('close', onEnd);
    if (this.state === 'frozen') client.pause();
    else this.#connectUpstream(pair);
  }

  #connectUpstream(pair: Pair): void {
    const upstream = createConnection({ host: this.#host, port: this.#targetPort });
    pair.upstream = upstream;
    const onEnd = (): void => this.#teardown(pair);
    upstream.on('error', onEnd).on('close', onEnd);
    startFlow(pair);
  }

  /** A side closed: pass it on, unless the link is frozen (then at thaw). */
  #teardown(pair: Pair): void {
    if (!this.#pairs.has(pair)) return;
    if (this.state === 'frozen') {
      pair.closedWhileFrozen = true;
      return;
    }
    this.#destroy(pair);
  }

  #destroy(pair: Pair): void {
    this.#pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  #reset(pair: Pair): void {
    this.#pairs.delete(pair);
    reset(pair.client);
    if (pair.upstream !== undefined) reset(pair.upstream);
  }
}

function startFlow(pair: Pair): void {
  const { client, upstream } = pair;
  if (upstream === undefined) return;
  client.pipe(upstream);
  upstream.pipe(client);
}

function stopFlow(pair: Pair): void {
  const { client, upstream } = pair;
  client.unpipe();
  client.pause();
  if (upstream !== undefined) {
    upstream.unpipe();
    upstream.pause();
  }
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const proxy = new Proxy(targetHost, targetPort);
  await proxy.listen();
  return proxy;
}

/** RST, like a middlebox dropping its state; a plain destroy would send a polite FIN. */
function reset(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
