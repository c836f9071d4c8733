/**
 * The reachability matrix with real packets: from inside each pod's namespace, one ICMP echo
 * (`ping -c1 -W<s>`) to every other pod's address, a bounded number at a time. An unanswered
 * echo costs the whole timeout, so concurrency keeps a 6-pod matrix (30 pings) near a second or
 * two even when a policy blocks many of them.
 */
import { succeeds } from './exec.js';
import type { PodRecord } from './state.js';
import { formatTable } from './table.js';

export interface ProbeResult {
  from: string;
  to: string;
  fromIp: string;
  toIp: string;
  reachable: boolean;
}

export interface ProbeOptions {
  concurrency?: number;
  /** ping's -W, seconds. */
  timeoutSecs?: number;
  /** Only these sources / destinations (pod keys `ns/name`). */
  from?: readonly string[];
  to?: readonly string[];
}

export function podKey(p: Pick<PodRecord, 'namespace' | 'name'>): string {
  return `${p.namespace}/${p.name}`;
}

/**
 * One echo; `identifier` sets its ICMP id (ping -e), so the receiver can tell echoes apart.
 * `fromNetns` is a named namespace (`ip netns exec`) or a namespace file such as
 * /proc/<pid>/ns/net (`nsenter --net=`), as a kubernetes-engine pod's is.
 */
export async function ping(fromNetns: string, ip: string, timeoutSecs = 1, identifier?: number): Promise<boolean> {
  const id = identifier === undefined ? [] : ['-e', String(identifier)];
  const enter = fromNetns.startsWith('/') ? ['nsenter', `--net=${fromNetns}`] : ['ip', 'netns', 'exec', fromNetns];
  return succeeds(enter[0], [...enter.slice(1), 'ping', '-n', '-q', '-c', '1', '-W', String(timeoutSecs), ...id, ip], {
    timeoutMs: (timeoutSecs + 5) * 1000,
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export async function probe(pods: readonly PodRecord[], opts: ProbeOptions = {}): Promise<ProbeResult[]> {
  const withIp = pods.filter((p) => p.ip !== undefined);
  const pairs: Array<[PodRecord, PodRecord]> = [];
  for (const a of withIp) {
    if (opts.from && !opts.from.includes(podKey(a))) continue;
    for (const b of withIp) {
      if (a === b || (opts.to && !opts.to.includes(podKey(b)))) continue;
      pairs.push([a, b]);
    }
  }
  return mapLimit(pairs, opts.concurrency ?? 8, async ([a, b]) => ({
    from: podKey(a),
    to: podKey(b),
    fromIp: a.ip!,
    toIp: b.ip!,
    reachable: await ping(a.netns, b.ip!, opts.timeoutSecs ?? 1),
  }));
}

/** The matrix as a table: one row per source, one column per destination; `ok`, `--` (blocked), `·` (self). */
export function formatProbeTable(results: readonly ProbeResult[]): string {
  const pods = [...new Set(results.flatMap((r) => [r.from, r.to]))].sort();
  const cell = new Map(results.map((r) => [`${r.from}\0${r.to}`, r.reachable]));
  const rows = pods.map((from) => [
    from,
    ...pods.map((to) => {
      if (from === to) return '·';
      const v = cell.get(`${from}\0${to}`);
      return v === undefined ? '?' : v ? 'ok' : '--';
    }),
  ]);
  const blocked = results.filter((r) => !r.reachable).length;
  return `${formatTable(['FROM \\ TO', ...pods], rows)}${results.length - blocked}/${results.length} reachable${blocked ? `, ${blocked} blocked` : ''}\n`;
}
