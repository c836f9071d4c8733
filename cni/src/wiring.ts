/**
 * Pod wiring, as Calico's plugin does it: a veth pair between the node's namespace (where the
 * plugin runs) and the pod's, no bridge, no gateway address:
 *
 *   node netns                                 pod netns (CNI_NETNS)
 *   caliXXXXXXXXXXX  ee:ee:ee:ee:ee:ee  ◀──veth──▶  eth0  10.66.3.7/32, fd00::7/128
 *     proxy_arp=1: answers the pod's ARP           169.254.1.1 dev eth0 scope link
 *     for 169.254.1.1 with its own MAC             default via 169.254.1.1 dev eth0
 *   10.66.3.7/32 dev caliX scope link              default via fe80::ecee:eeff:feee:eeee (v6)
 *
 * The pod needs no real gateway: 169.254.1.1 exists only as an on-link next hop, and the host
 * veth answers for it, so every packet goes to the host and is routed there (Felix adds policy).
 * The pair is created inside the node namespace with the peer put straight into the pod's
 * (`ip link add … peer name eth0 netns <path>`), so no pod interface ever appears on the node,
 * and the pod side is configured with `nsenter --net=<path> ip -batch -` (one process).
 *
 * Teardown deletes the pod's interface inside CNI_NETNS (the peer goes with it, and with it the
 * host route); never the host veth by name, which after a sandbox restart may belong to the
 * pod's new sandbox.
 */
import { writeFile } from 'node:fs/promises';
import { access } from 'node:fs/promises';
import { CommandError, type Runner } from './exec.js';
import { HOST_VETH_MAC, IPV4_GATEWAY, IPV6_GATEWAY, type PodAddress } from './result.js';
import type { Logger } from './log.js';

export interface SetupRequest {
  netns: string;
  ifname: string;
  hostVeth: string;
  mtu: number;
  addresses: readonly PodAddress[];
}

export interface CheckRequest {
  netns: string;
  ifname: string;
  hostVeth: string;
  addresses: readonly PodAddress[];
}

/** The boundary the commands use; the Linux implementation is below, tests may fake it. */
export interface PodWiring {
  /** Creates and configures the pair; returns the pod interface's MAC. */
  setup(req: SetupRequest): Promise<{ containerMac: string }>;
  /** Removes the pod's interface if the namespace and the interface still exist. */
  teardown(netns: string, ifname: string): Promise<void>;
  /** What differs from what setup makes: an empty list when all is in place. */
  check(req: CheckRequest): Promise<string[]>;
}

const NO_DEVICE = /Cannot find device|does not exist|No such device/i;
const EXISTS = /File exists/i;

export function linuxWiring(run: Runner, log: Logger, sysctlRoot = '/proc/sys'): PodWiring {
  const inPod = (netns: string, args: string[], input?: string) => run('nsenter', [`--net=${netns}`, 'ip', ...args], input === undefined ? {} : { input });

  async function createPair(req: SetupRequest): Promise<void> {
    await run('ip', [
      'link',
      'add',
      req.hostVeth,
      'mtu',
      String(req.mtu),
      'type',
      'veth',
      'peer',
      'name',
      req.ifname,
      'mtu',
      String(req.mtu),
      'netns',
      req.netns,
    ]);
  }

  async function removeStale(req: SetupRequest): Promise<void> {
    // A retried ADD, or a sandbox whose DEL never came: start from nothing.
    await ignoring(NO_DEVICE, () => inPod(req.netns, ['link', 'del', req.ifname]));
    await ignoring(NO_DEVICE, () => run('ip', ['link', 'del', req.hostVeth]));
  }

  return {
    async setup(req) {
      await access(req.netns).catch((err: unknown) => {
        throw new CommandError(`open ${req.netns}`, `the pod's network namespace ${req.netns} does not exist`, null, false, { cause: err });
      });
      try {
        await createPair(req);
      } catch (err) {
        if (!(err instanceof CommandError) || !EXISTS.test(err.stderr)) throw err;
        log.info({ hostVeth: req.hostVeth, ifname: req.ifname }, 'interface exists already: replacing it');
        await removeStale(req);
        await createPair(req);
      }
      const v4 = req.addresses.filter((a) => a.version === 4);
      const v6 = req.addresses.filter((a) => a.version === 6);
      // Host side: fixed MAC, up, then answer ARP for the gateway and route the pod's addresses.
      await run('ip', ['link', 'set', 'dev', req.hostVeth, 'address', HOST_VETH_MAC, 'up']);
      if (v4.length > 0) {
        await writeSysctl(sysctlRoot, `net/ipv4/conf/${req.hostVeth}/proxy_arp`, '1');
        await writeSysctl(sysctlRoot, `net/ipv4/neigh/${req.hostVeth}/proxy_delay`, '0');
      }
      if (v6.length > 0) await writeSysctl(sysctlRoot, `net/ipv6/conf/${req.hostVeth}/accept_ra`, '0').catch(() => undefined);
      const podBatch = [`link set dev ${req.ifname} up`];
      for (const a of v4) podBatch.push(`addr add ${a.address}/32 dev ${req.ifname}`);
      if (v4.length > 0) {
        podBatch.push(`route add ${IPV4_GATEWAY} dev ${req.ifname} scope link`);
        podBatch.push(`route add default via ${IPV4_GATEWAY} dev ${req.ifname}`);
      }
      for (const a of v6) podBatch.push(`addr add ${a.address}/128 dev ${req.ifname} nodad`);
      if (v6.length > 0) podBatch.push(`route add default via ${IPV6_GATEWAY} dev ${req.ifname}`);
      await inPod(req.netns, ['-batch', '-'], podBatch.join('\n') + '\n');
      const hostBatch: string[] = [];
      for (const a of v4) hostBatch.push(`route replace ${a.address}/32 dev ${req.hostVeth} scope link`);
      for (const a of v6) hostBatch.push(`route replace ${a.address}/128 dev ${req.hostVeth}`);
      if (hostBatch.length > 0) await run('ip', ['-batch', '-'], { input: hostBatch.join('\n') + '\n' });
      const links = JSON.parse(await inPod(req.netns, ['-j', 'link', 'show', 'dev', req.ifname])) as Array<{ address?: string }>;
      return { containerMac: links[0]?.address ?? '' };
    },

    async teardown(netns, ifname) {
      if (netns === '') return;
      try {
        await access(netns);
      } catch {
        log.info({ netns }, 'pod network namespace is gone: nothing to tear down');
        return;
      }
      await ignoring(NO_DEVICE, () => inPod(netns, ['link', 'del', ifname]));
    },

    async check(req) {
      const problems: string[] = [];
      try {
        await access(req.netns);
      } catch {
        return [`the pod's network namespace ${req.netns} does not exist`];
      }
      const podAddrs = await jsonOr<IpAddrShow[]>(() => inPod(req.netns, ['-j', 'addr', 'show', 'dev', req.ifname]), []);
      const link = podAddrs[0];
      if (!link) return [`${req.ifname} does not exist in ${req.netns}`];
      if (!link.flags?.includes('UP')) problems.push(`${req.ifname} is down`);
      const have = new Set((link.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
      for (const a of req.addresses) {
        const want = `${a.address}/${a.version === 4 ? 32 : 128}`;
        if (!have.has(want)) problems.push(`${req.ifname} lacks address ${want}`);
      }
      if (req.addresses.some((a) => a.version === 4)) {
        const routes = await jsonOr<IpRoute[]>(() => inPod(req.netns, ['-j', '-4', 'route', 'show', 'dev', req.ifname]), []);
        if (!routes.some((r) => r.dst === IPV4_GATEWAY && r.scope === 'link'))
          problems.push(`route ${IPV4_GATEWAY} dev ${req.ifname} scope link is missing in the pod`);
        if (!routes.some((r) => r.dst === 'default' && r.gateway === IPV4_GATEWAY)) problems.push(`default route via ${IPV4_GATEWAY} is missing in the pod`);
      }
      if (req.addresses.some((a) => a.version === 6)) {
        const routes = await jsonOr<IpRoute[]>(() => inPod(req.netns, ['-j', '-6', 'route', 'show', 'dev', req.ifname]), []);
        if (!routes.some((r) => r.dst === 'default' && r.gateway === IPV6_GATEWAY))
          problems.push(`IPv6 default route via ${IPV6_GATEWAY} is missing in the pod`);
      }
      const host = await jsonOr<IpAddrShow[]>(() => run('ip', ['-j', 'link', 'show', 'dev', req.hostVeth]), []);
      if (host.length === 0) return [...problems, `host veth ${req.hostVeth} does not exist`];
      if (!host[0].flags?.includes('UP')) problems.push(`host veth ${req.hostVeth} is down`);
      for (const a of req.addresses) {
        const fam = a.version === 4 ? '-4' : '-6';
        const routes = await jsonOr<IpRoute[]>(() => run('ip', ['-j', fam, 'route', 'show', 'dev', req.hostVeth]), []);
        const dst = a.address;
        if (!routes.some((r) => r.dst === dst || r.dst === `${dst}/${a.version === 4 ? 32 : 128}`)) {
          problems.push(`host route ${dst}/${a.version === 4 ? 32 : 128} dev ${req.hostVeth} is missing`);
        }
      }
      return problems;
    },
  };
}

interface IpAddrShow {
  ifname?: string;
  flags?: string[];
  addr_info?: Array<{ local?: string; prefixlen?: number }>;
}

interface IpRoute {
  dst?: string;
  gateway?: string;
  scope?: string;
  dev?: string;
}

async function ignoring(pattern: RegExp, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof CommandError && !err.missing && pattern.test(err.stderr)) return;
    throw err;
  }
}

async function jsonOr<T>(fn: () => Promise<string>, fallback: T): Promise<T> {
  try {
    const text = await fn();
    return text.trim() === '' ? fallback : (JSON.parse(text) as T);
  } catch (err) {
    if (err instanceof CommandError && !err.missing && NO_DEVICE.test(err.stderr)) return fallback;
    throw err;
  }
}

async function writeSysctl(root: string, path: string, value: string): Promise<void> {
  await writeFile(`${root}/${path}`, value);
}
