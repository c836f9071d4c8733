/**
 * Endpoints and the Discovery boundary. A Discovery says which Typha replicas exist; the client
 * decides the order to try them in: replicas on its own node first (no network hop, and the
 * Kubernetes Service topology routes the same way), the rest shuffled with the injected random
 * source so 5,000 agents spread over the replicas instead of all picking the first.
 */
import { DEFAULT_PORT, SYNC_PATH } from '../protocol/transport.js';
import { ClientConfigError } from './errors.js';

export interface Endpoint {
  /** `ws://host:port/sync` or `wss://…`. */
  url: string;
  /** The node the replica runs on, when the discovery knows it. */
  node?: string;
}

export interface Discovery {
  endpoints(): Promise<Endpoint[]>;
}

export interface AddressOptions {
  /** Use wss:// for addresses without a scheme. */
  secure?: boolean;
  /** Port for addresses without one (default 5473, Calico's Typha port). */
  port?: number;
}

/**
 * Turns an address as an operator writes it into a WebSocket URL:
 *   `10.0.0.5:5473`, `typha.calico-system.svc`, `[fd00::5]:5473`, `fd00::5`
 *     → `ws://10.0.0.5:5473/sync` … (wss:// with `secure`)
 *   `ws://…`, `wss://…` → used as given.
 * Throws ClientConfigError naming the bad address.
 */
export function toUrl(address: string, opts: AddressOptions = {}): string {
  const a = address.trim();
  if (/^wss?:\/\//i.test(a)) {
    let u: URL;
    try {
      u = new URL(a);
    } catch (err) {
      throw new ClientConfigError(`typha address "${address}" is not a valid URL`, { cause: err });
    }
    if (u.hostname === '') throw new ClientConfigError(`typha address "${address}" has no host`);
    // `ws://host:port` as an operator types it means Typha's sync endpoint; another path is kept.
    if (u.pathname === '/') return `${u.protocol}//${u.host}${SYNC_PATH}${u.search}`;
    return a;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(a)) {
    throw new ClientConfigError(`typha address "${address}": use host:port, ws:// or wss://`);
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(a);
  if (v6 !== null) {
    host = `[${v6[1]}]`;
    portText = v6[2];
  } else if ((a.match(/:/g) ?? []).length > 1) {
    if (!/^[0-9a-fA-F:.]+$/.test(a)) throw new ClientConfigError(`typha address "${address}" is not host:port`);
    host = `[${a}]`; // a bare IPv6 address
  } else {
    const m = /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(a);
    if (m === null) {
      throw new ClientConfigError(`typha address "${address}" is not host:port (e.g. "10.0.0.5:${DEFAULT_PORT}")`);
    }
    host = m[1];
    portText = m[2];
  }
  const port = portText === undefined ? (opts.port ?? DEFAULT_PORT) : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ClientConfigError(`typha address "${address}": port must be 1..65535`);
  }
  return `${opts.secure ? 'wss' : 'ws'}://${host}:${port}${SYNC_PATH}`;
}

/**
 * The order to try `endpoints` in: duplicates (same URL) removed, shuffled (Fisher–Yates with
 * `random`), then those on `node` moved to the front, keeping the shuffled order within each
 * group.
 */
export function orderEndpoints(endpoints: readonly Endpoint[], node: string, random: () => number): Endpoint[] {
  const byUrl = new Map<string, Endpoint>();
  for (const e of endpoints) {
    const prev = byUrl.get(e.url);
    if (prev === undefined || (prev.node === undefined && e.node !== undefined)) byUrl.set(e.url, e);
  }
  const list = [...byUrl.values()];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const t = list[i];
    list[i] = list[j];
    list[j] = t;
  }
  const local = list.filter((e) => e.node === node);
  return local.length === 0 ? list : [...local, ...list.filter((e) => e.node !== node)];
}
