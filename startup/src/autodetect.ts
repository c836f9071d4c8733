/**
 * The node's address, found as calico/node's IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD
 * find it. Every method answers `address/prefix` (the prefix of the interface's subnet, which
 * BIRD and Felix use to tell directly connected peers from routed ones), or nothing:
 *
 *   first-found              the first address of the family, interface by interface in the
 *                            host's order, skipping the interfaces a node never peers over
 *                            (loopback, container veths, bridges and tunnels of CNI plugins and
 *                            of Cattail itself: DEFAULT_INTERFACES_TO_EXCLUDE)
 *   interface=<re>[,<re>…]   as first-found, only interfaces whose whole name matches one regex
 *   skip-interface=<re>[,…]  as first-found, skipping the interfaces whose name matches (these
 *                            replace the default exclusions, as in Calico)
 *   can-reach=<ip|host>      the source address the kernel picks for a packet to the destination
 *                            (a connected UDP socket: no packet is sent)
 *   cidr=<cidr>[,<cidr>…]    the first address inside one of the CIDRs
 *   kubernetes-internal-ip   the Kubernetes Node's InternalIP of the family
 *
 * Link-local and loopback addresses are never answers. Interfaces come from the process's own
 * network namespace (`os.networkInterfaces()`), or from a named one through `ip -n <ns>` when the
 * agent runs outside the node's namespace (the lab and tests, as FELIX_NETNS), or from the caller.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { cidrContainsIP, formatIP, parseCIDR, parseIP, type CIDR, type IPVersion } from '@cattail/api';
import { StartupError } from './errors.js';

/** One interface and its addresses, `ip/prefix`, in the host's order. */
export interface HostInterface {
  name: string;
  cidrs: string[];
}

export type AutodetectMethod =
  | { kind: 'first-found' }
  | { kind: 'interface'; patterns: RegExp[]; text: string }
  | { kind: 'skip-interface'; patterns: RegExp[]; text: string }
  | { kind: 'can-reach'; destination: string }
  | { kind: 'cidr'; cidrs: CIDR[]; text: string }
  | { kind: 'kubernetes-internal-ip' };

/** What a method may consult besides the interfaces. */
export interface AutodetectContext {
  interfaces: HostInterface[];
  /** The Kubernetes Node's `status.addresses`, for kubernetes-internal-ip. */
  kubernetesAddresses?: { type: string; address: string }[];
  /** The local address the kernel would use towards `destination` (default: a connected UDP socket). */
  sourceFor?: (destination: string, version: IPVersion) => Promise<string | undefined>;
}

/** Interfaces a node never uses as its own address: Calico's list, plus Cattail's own devices. */
export const DEFAULT_INTERFACES_TO_EXCLUDE: readonly RegExp[] = [
  /^docker.*/,
  /^cbr.*/,
  /^dummy.*/,
  /^virbr.*/,
  /^lxcbr.*/,
  /^veth.*/,
  /^lo$/,
  /^cali.*/,
  /^tunl.*/,
  /^flannel.*/,
  /^kube-ipvs.*/,
  /^cni.*/,
  /^vxlan\.calico$/,
  /^vxlan-v6\.calico$/,
  /^wireguard\.cali$/,
  /^wg-v6\.cali$/,
  /^nodelocaldns.*/,
];

/** The process's own interfaces and their addresses (IPv6 zone ids dropped). */
export function hostInterfaces(): HostInterface[] {
  const out: HostInterface[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    out.push({ name, cidrs: (addrs ?? []).map((a) => (a.cidr ?? `${a.address}/${a.family === 'IPv4' ? 32 : 128}`).replace(/%[^/]*/, '')) });
  }
  return out;
}

function ipJson(netns: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-n', netns, '-j', ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new StartupError('STARTUP_CONFIG', `ip -n ${netns} ${args.join(' ')}: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve(stdout.trim() === '' ? [] : JSON.parse(stdout));
    });
  });
}

/** The interfaces of a named network namespace, in index order (`ip -n <ns> -j addr show`). */
export async function netnsInterfaces(netns: string): Promise<HostInterface[]> {
  const links = (await ipJson(netns, ['addr', 'show'])) as { ifname: string; addr_info?: { local?: string; prefixlen?: number }[] }[];
  return links.map((l) => ({
    name: l.ifname,
    cidrs: (l.addr_info ?? []).filter((a) => a.local !== undefined && a.prefixlen !== undefined).map((a) => `${a.local}/${a.prefixlen}`),
  }));
}

/** The kernel's source address towards `destination` inside a named namespace (`ip route get`). */
export function netnsSourceFor(netns: string): (destination: string, version: IPVersion) => Promise<string | undefined> {
  return async (destination, version) => {
    let address = destination;
    if (!parseIP(destination)) address = (await lookup(destination, { family: version }).catch(() => undefined))?.address ?? '';
    if (!address) return undefined;
    const routes = (await ipJson(netns, [`-${version}`, 'route', 'get', address]).catch(() => [])) as { prefsrc?: string }[];
    return routes[0]?.prefsrc;
  };
}

/** Parses a method as written in IP_AUTODETECTION_METHOD (`envName` names it in errors). */
export function parseAutodetectMethod(text: string | undefined, envName: string): AutodetectMethod {
  const value = (text ?? '').trim();
  if (value === '' || value === 'first-found') return { kind: 'first-found' };
  if (value === 'kubernetes-internal-ip') return { kind: 'kubernetes-internal-ip' };
  const eq = value.indexOf('=');
  const [method, arg] = eq < 0 ? [value, ''] : [value.slice(0, eq), value.slice(eq + 1).trim()];
  const bad = (why: string): never => {
    throw new StartupError('STARTUP_CONFIG', `${envName}=${value}: ${why}`);
  };
  switch (method) {
    case 'interface':
    case 'skip-interface': {
      const patterns = arg
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')
        .map((p) => {
          try {
            return new RegExp(`^(?:${p})$`);
          } catch (err) {
            return bad(`"${p}" is not a regular expression (${(err as Error).message})`);
          }
        });
      if (patterns.length === 0) bad(`${method}= needs at least one interface name regex`);
      return { kind: method, patterns, text: value };
    }
    case 'can-reach':
      if (arg === '') bad('can-reach= needs an address or host name');
      return { kind: 'can-reach', destination: arg };
    case 'cidr': {
      const cidrs = arg
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '')
        .map((c) => parseCIDR(c) ?? bad(`"${c}" is not a CIDR`));
      if (cidrs.length === 0) bad('cidr= needs at least one CIDR');
      return { kind: 'cidr', cidrs, text: value };
    }
    default:
      return bad(
        'unknown method: use first-found, interface=<regex,...>, skip-interface=<regex,...>, can-reach=<destination>, cidr=<cidr,...> or kubernetes-internal-ip',
      );
  }
}

/** The first usable `ip/prefix` of `version` on the interfaces that `keep` accepts. */
function firstAddress(interfaces: HostInterface[], version: IPVersion, keep: (name: string) => boolean, where?: (ip: string) => boolean): string | undefined {
  for (const iface of interfaces) {
    if (!keep(iface.name)) continue;
    for (const text of iface.cidrs) {
      const c = parseCIDR(text);
      if (!c || c.version !== version || !usable(c)) continue;
      const ip = formatIP(c.addr);
      if (where && !where(ip)) continue;
      return `${ip}/${c.prefix}`;
    }
  }
  return undefined;
}

/** Not loopback, not link-local, not unspecified. */
function usable(c: CIDR): boolean {
  const ip = c.addr;
  const never = ip.version === 4 ? ['127.0.0.0/8', '169.254.0.0/16', '0.0.0.0/32'] : ['::1/128', 'fe80::/10', '::/128'];
  return !never.some((n) => cidrContainsIP(parseCIDR(n)!, ip));
}

/** `ip` with the prefix of the interface that holds it, or `/32` (`/128`) when none does. */
export function withLocalPrefix(ip: string, interfaces: HostInterface[]): string {
  const want = parseIP(ip);
  for (const iface of interfaces) {
    for (const text of iface.cidrs) {
      const c = parseCIDR(text);
      if (c && want && formatIP(c.addr) === formatIP(want)) return `${formatIP(want)}/${c.prefix}`;
    }
  }
  return want ? `${formatIP(want)}/${want.version === 6 ? 128 : 32}` : ip;
}

/** The kernel's choice of source address towards `destination`: a connected UDP socket's local end. */
export async function kernelSourceFor(destination: string, version: IPVersion): Promise<string | undefined> {
  let address = destination;
  if (!parseIP(destination)) {
    try {
      address = (await lookup(destination, { family: version })).address;
    } catch {
      return undefined;
    }
  }
  const sock = createSocket(version === 4 ? 'udp4' : 'udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(80, address, () => resolve());
    });
    return sock.address().address;
  } catch {
    return undefined;
  } finally {
    sock.close();
  }
}

/** The address `method` finds for `version`, as `ip/prefix`, or undefined. */
export async function autodetect(method: AutodetectMethod, version: IPVersion, ctx: AutodetectContext): Promise<string | undefined> {
  const { interfaces } = ctx;
  switch (method.kind) {
    case 'first-found':
      return firstAddress(interfaces, version, (n) => !DEFAULT_INTERFACES_TO_EXCLUDE.some((re) => re.test(n)));
    case 'interface':
      return firstAddress(interfaces, version, (n) => method.patterns.some((re) => re.test(n)));
    case 'skip-interface':
      return firstAddress(interfaces, version, (n) => !method.patterns.some((re) => re.test(n)));
    case 'cidr':
      return firstAddress(
        interfaces,
        version,
        () => true,
        (ip) => method.cidrs.some((c) => c.version === version && cidrContainsIP(c, parseIP(ip)!)),
      );
    case 'can-reach': {
      const src = await (ctx.sourceFor ?? kernelSourceFor)(method.destination, version);
      return src && parseIP(src)?.version === version ? withLocalPrefix(src, interfaces) : undefined;
    }
    case 'kubernetes-internal-ip': {
      const internal = (ctx.kubernetesAddresses ?? []).find((a) => a.type === 'InternalIP' && parseIP(a.address)?.version === version);
      return internal ? withLocalPrefix(internal.address, interfaces) : undefined;
    }
  }
}

/** Says in words what a method searched, for the error when it found nothing. */
export function describeMethod(method: AutodetectMethod): string {
  switch (method.kind) {
    case 'first-found':
      return 'first-found (every interface but loopback, container and tunnel devices)';
    case 'interface':
    case 'skip-interface':
    case 'cidr':
      return method.text;
    case 'can-reach':
      return `can-reach=${method.destination}`;
    case 'kubernetes-internal-ip':
      return "kubernetes-internal-ip (the Kubernetes Node's InternalIP)";
  }
}
