/**
 * The external host: a namespace on the fabric outside every pool (172.31.<o>.253), standing
 * for the world beyond the cluster. With the lab pool's `natOutgoing: true`, a pod's traffic to
 * it leaves its node masqueraded, so the host sees the node's fabric address; without, the
 * pod's (and, having no route to the pool, it cannot answer).
 *
 * How the source is seen without a process to keep running: the host's own nftables table adds
 * every echo request it receives to a set keyed by `ICMP id . source address`. `probeExternal`
 * empties the set, pings from every pod with an identifier of its own (ping -e), then reads the
 * set: the element with a pod's identifier names the source that pod's echo arrived with. The
 * kernel keeps an echo's identifier through NAT unless two echoes from one node to this host
 * share it at the same moment, which distinct identifiers per probe avoid.
 */
import { randomInt } from 'node:crypto';
import { LabStateError } from './errors.js';
import { ip, run, succeeds } from './exec.js';
import { namespaceExists } from './fabric.js';
import type { LabNames } from './names.js';
import { mapLimit, ping, podKey } from './probe.js';
import type { PodRecord } from './state.js';
import { formatTable } from './table.js';

const TABLE = 'lab-external';
const SET = 'echo-sources';

const RULESET = `table inet ${TABLE} {}
delete table inet ${TABLE}
table inet ${TABLE} {
	set ${SET} {
		typeof icmp id . ip saddr
		size 65535
		flags dynamic
	}
	chain input {
		type filter hook input priority filter; policy accept;
		icmp type echo-request add @${SET} { icmp id . ip saddr }
	}
}
`;

export interface ExternalResult {
  from: string;
  reachable: boolean;
  /** The source address the external host saw on this pod's echo; null when none arrived. */
  sourceSeen: string | null;
}

export interface ExternalProbe {
  address: string;
  results: ExternalResult[];
}

/** Creates the external host's namespace, its veth onto the fabric bridge and its table, unless they exist. */
export async function ensureExternalHost(names: LabNames): Promise<void> {
  const ns = names.externalNs;
  const fab = names.fabricNs;
  if (!(await namespaceExists(ns))) await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  if (!(await succeeds('ip', ['-n', ns, 'link', 'show', 'eth0']))) {
    if (await succeeds('ip', ['-n', fab, 'link', 'show', names.externalPort])) await ip('-n', fab, 'link', 'del', names.externalPort);
    const tmp = names.externalTempLink;
    await ip('link', 'add', tmp, 'netns', ns, 'type', 'veth', 'peer', 'name', names.externalPort, 'netns', fab);
    await ip('-n', ns, 'link', 'set', tmp, 'name', 'eth0');
  }
  await ip('-n', fab, 'link', 'set', names.externalPort, 'master', 'br0', 'up');
  await ip('-n', ns, 'addr', 'replace', `${names.externalAddress}/24`, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: RULESET });
}

/** `nft -j list set` output → (ICMP id → source address). */
export function parseEchoSources(json: string): Map<number, string> {
  const out = new Map<number, string>();
  const doc = JSON.parse(json) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
  for (const item of doc.nftables ?? []) {
    for (const e of item.set?.elem ?? []) {
      // An element is {concat: [id, addr]}, or {elem: {val: {concat: …}}} when it carries a timeout.
      const el = e as { concat?: unknown[]; elem?: { val?: { concat?: unknown[] } } };
      const concat = el.concat ?? el.elem?.val?.concat;
      if (Array.isArray(concat) && typeof concat[0] === 'number' && typeof concat[1] === 'string') out.set(concat[0], concat[1]);
    }
  }
  return out;
}

/** Pings the external host from every pod and reports the source address each echo arrived with. */
export async function probeExternal(
  names: LabNames,
  pods: readonly PodRecord[],
  opts: { concurrency?: number; timeoutSecs?: number } = {},
): Promise<ExternalProbe> {
  const ns = names.externalNs;
  if (!(await namespaceExists(ns))) throw new LabStateError(`lab ${names.id} has no external host (${ns}): run \`cattail lab up\` again to add it`);
  await run('ip', ['netns', 'exec', ns, 'nft', 'flush', 'set', 'inet', TABLE, SET]);
  const withIp = pods.filter((p) => p.ip !== undefined);
  const base = randomInt(1, 65535 - withIp.length);
  const reachable = await mapLimit(
    withIp.map((p, i) => [p, base + i] as const),
    opts.concurrency ?? 8,
    ([p, id]) => ping(p.netns, names.externalAddress, opts.timeoutSecs ?? 1, id),
  );
  const seen = parseEchoSources(await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'set', 'inet', TABLE, SET]));
  return {
    address: names.externalAddress,
    results: withIp.map((p, i) => ({ from: podKey(p), reachable: reachable[i], sourceSeen: seen.get(base + i) ?? null })),
  };
}

export function formatExternalTable(probe: ExternalProbe): string {
  const rows = probe.results.map((r) => [r.from, r.reachable ? 'ok' : '--', r.sourceSeen ?? '-']);
  const ok = probe.results.filter((r) => r.reachable).length;
  return `${formatTable(['FROM', `TO ${probe.address}`, 'SOURCE SEEN'], rows)}${ok}/${probe.results.length} reachable\n`;
}
