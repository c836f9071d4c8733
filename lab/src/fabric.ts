/**
 * The lab's network: a fabric namespace holding a bridge, and one namespace per node joined to
 * it by a veth pair (the node's eth0), as in confd's BGP harness. The bridge carries the gateway
 * address .254 and each node's default route points at it: Felix's proxy ARP answers pods only
 * for destinations the node has a route to, so a node needs a default route, and the fabric
 * namespace (which forwards nothing) is a harmless end for it.
 *
 *          ctlab-<id>-fab:  br0 172.31.<o>.254/24
 *            │p1            │p2            │p3
 *          eth0 .1        eth0 .2        eth0 .3
 *          ctlab-<id>-n1  ctlab-<id>-n2  ctlab-<id>-n3     (BIRD inside; Felix programs it)
 *            │cali…          │cali…
 *          eth0 pod       eth0 pod                           ctlab-<id>-n<i>-p<j>
 */
import { ip, run, succeeds } from './exec.js';
import type { LabNames } from './names.js';

export async function listNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function namespaceExists(ns: string): Promise<boolean> {
  return (await listNamespaces()).includes(ns);
}

async function linkExists(ns: string, name: string): Promise<boolean> {
  return succeeds('ip', ['-n', ns, 'link', 'show', name]);
}

/** Creates the fabric namespace and its bridge (with the gateway address) unless they exist. */
export async function ensureFabric(names: LabNames): Promise<void> {
  const fab = names.fabricNs;
  if (!(await namespaceExists(fab))) await ip('netns', 'add', fab);
  await ip('-n', fab, 'link', 'set', 'lo', 'up');
  if (!(await linkExists(fab, 'br0'))) await ip('-n', fab, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', fab, 'addr', 'replace', `${names.gateway}/24`, 'dev', 'br0');
  await ip('-n', fab, 'link', 'set', 'br0', 'up');
}

/** Creates node i's namespace and its veth into the fabric unless they exist. */
export async function ensureNodeNamespace(names: LabNames, i: number): Promise<void> {
  await ensureFabricHost(names, { ns: names.nodeNs(i), address: names.nodeAddress(i), port: names.fabricPort(i), tempLink: names.tempLink(i) });
}

/**
 * A host on the fabric: namespace `ns` with `eth0` at `address`/24, its peer `port` on the
 * bridge, default route via the gateway. `tempLink` names eth0 while it is made (unique across labs).
 */
export async function ensureFabricHost(names: LabNames, h: { ns: string; address: string; port: string; tempLink: string }): Promise<void> {
  const { ns, port } = h;
  const fab = names.fabricNs;
  if (!(await namespaceExists(ns))) await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  if (!(await linkExists(ns, 'eth0'))) {
    if (await linkExists(fab, port)) await ip('-n', fab, 'link', 'del', port);
    await ip('link', 'add', h.tempLink, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', fab);
    await ip('-n', ns, 'link', 'set', h.tempLink, 'name', 'eth0');
  }
  await ip('-n', fab, 'link', 'set', port, 'master', 'br0', 'up');
  await ip('-n', ns, 'addr', 'replace', `${h.address}/24`, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  await ip('-n', ns, 'route', 'replace', 'default', 'via', names.gateway, 'dev', 'eth0');
}

export async function createNamespace(ns: string): Promise<void> {
  if (!(await namespaceExists(ns))) await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
}

/** Pids of processes whose network namespace is `ns` (`ip netns pids`). */
export async function namespacePids(ns: string): Promise<number[]> {
  try {
    return (await run('ip', ['netns', 'pids', ns])).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function deleteNamespace(ns: string): Promise<void> {
  if (await namespaceExists(ns)) await ip('netns', 'del', ns);
}
