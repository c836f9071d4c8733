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
 * Processes are most of the wiring's time, so there are few, and they overlap what they can:
 *
 *   createPair   ip link add <host> address ee:… mtu M up type veth peer name eth0 address <mac>
 *                mtu M netns <path>        one process; needs no address, so ADD starts it
 *                                          before IPAM and the two run at once
 *   setup        proxy_arp sysctls (files), then at once:
 *                  nsenter --net=<path> ip -batch -   pod side: up, addresses, routes
 *                  ip -batch -                        host routes to the pod's addresses
 *
 * The pod side's MAC is chosen here (random, locally administered, unicast: what the kernel's
 * eth_random_addr would pick), so it need not be read back with another process.
 *
 * Teardown deletes the pod's interface inside CNI_NETNS (the peer goes with it, and with it the
 * host route); never the host veth by name, which after a sandbox restart may belong to the
 * pod's new sandbox.
 */
import { randomBytes } from 'node:crypto';
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

export type PairRequest = Pick<SetupRequest, 'netns' | 'ifname' | 'hostVeth' | 'mtu'>;

export interface CheckRequest {
  netns: string;
  ifname: string;
  hostVeth: string;
  addresses: readonly PodAddress[];
}

/** The boundary the commands use; the Linux implementation is below, tests may fake it. */
export interface PodWiring {
  /**
   * Optional: creates the pair (up on the host side, no addresses) ahead of setup(), so it can
   * run while IPAM allocates; setup() for the same pair then only configures it.
   */
  createPair?(req: PairRequest): Promise<void>;
  /** Creates (unless createPair did) and configures the pair; returns the pod interface's MAC. */
  setup(req: SetupRequest): Promise<{ containerMac: string }>;
  /** Removes the pod's interface if the namespace and the interface still exist. */
  teardown(netns: string, ifname: string): Promise<void>;
  /** What differs from what setup makes: an empty list when all is in place. */
  check(req: CheckRequest): Promise<string[]>;
}

const NO_DEVICE = /Cannot find device|does not exist|No such device/i;
const EXISTS = /File exists/i;

export function linuxWiring(run: Runner, log: Logger, sysctlRoot = '/proc/sys', randomMac: () => string = randomUnicastMac): PodWiring {
  const inPod = (netns: string, args: string[], input?: string) => run('nsenter', [`--net=${netns}`, 'ip', ...args], input === undefined ? {} : { input });
  /** The pairs createPair made in this process, with the pod side's MAC. */
  const made = new Map<string, string>();

  async function addPair(req: PairRequest, mac: string): Promise<void> {
    await run('ip', [
      'link',
      'add',
      req.hostVeth,
      'address',
      HOST_VETH_MAC,
      'mtu',
      String(req.mtu),
      'up',
      'type',
      'veth',
      'peer',
      'name',
      req.ifname,
      'address',
      mac,
      'mtu',
      String(req.mtu),
      'netns',
      req.netns,
    ]);
  }

  async function removeStale(req: PairRequest): Promise<void> {
    // A retried ADD, or a sandbox whose DEL never came: start from nothing.
    await ignoring(NO_DEVICE, () => inPod(req.netns, ['link', 'del', req.ifname]));
    await ignoring(NO_DEVICE, () => run('ip', ['link', 'del', req.hostVeth]));
  }

  async function createPair(req: PairRequest): Promise<string> {
    await access(req.netns).catch((err: unknown) => {
      throw new CommandError(`open ${req.netns}`, `the pod's network namespace ${req.netns} does not exist`, null, false, { cause: err });
    });
    const mac = randomMac();
    try {
      await addPair(req, mac);
    } catch (err) {
      if (!(err instanceof CommandError) || !EXISTS.test(err.stderr)) throw err;
      log.info({ hostVeth: req.hostVeth, ifname: req.ifname }, 'interface exists already: replacing it');
      await removeStale(req);
      await addPair(req, mac);
    }
    return mac;
  }

  return {
    async createPair(req) {
      made.set(`${req.netns} ${req.hostVeth}`, await createPair(req));
    },

    async setup(req) {
      const containerMac = made.get(`${req.netns} ${req.hostVeth}`) ?? (await createPair(req));
      const v4 = req.addresses.filter((a) => a.version === 4);
      const v6 = req.addresses.filter((a) => a.version === 6);
      // Host side: answer ARP for the gateway, then the pod's side and the host routes at once.
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
      const hostBatch: string[] = [];
      for (const a of v4) hostBatch.push(`route replace ${a.address}/32 dev ${req.hostVeth} scope link`);
      for (const a of v6) hostBatch.push(`route replace ${a.address}/128 dev ${req.hostVeth}`);
      await Promise.all([
        inPod(req.netns, ['-batch', '-'], podBatch.join('\n') + '\n'),
        hostBatch.length > 0 ? run('ip', ['-batch', '-'], { input: hostBatch.join('\n') + '\n' }) : undefined,
      ]);
      return { containerMac };
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

/** A random locally administered unicast MAC, as the kernel's eth_random_addr makes one. */
export function randomUnicastMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

async function writeSysctl(root: string, path: string, value: string): Promise<void> {
  await writeFile(`${root}/${path}`, value);
}
