/**
 * The node agent's start-up, what calico/node does before Felix and BIRD start (its init
 * container in the chart, `cattail node init`), in Calico's order:
 *
 *   1. The Node: read it (a new one on etcd; on the Kubernetes datastore the kubelet's Node must
 *      exist); its BGP addresses from IP / IP6 or autodetection, its AS number from AS, an orchRef
 *      to the Kubernetes node. No other Node may hold the same address (unless
 *      DISABLE_NODE_IP_CHECK). Written with compare-and-swap, re-read and redone on a conflict.
 *   2. Default IP pools for the families that have none.
 *   3. The cluster's defaults: ClusterInformation and the built-in tiers (datastore
 *      `ensureInitialized`, with this version and CLUSTER_TYPE), FelixConfiguration `default`
 *      (reportingInterval 0 and logSeverityScreen Info when unset, as calico/node sets them),
 *      on etcd FelixConfiguration `node.<name>` (defaultEndpointToHostAction Return when unset),
 *      BGPConfiguration `default` and IPAMConfiguration `default` when absent.
 *   4. Tunnel addresses (calico/node's allocate-tunnel-addrs, done once here): a VXLAN address
 *      from IPAM for each family an enabled VXLAN pool selecting this node serves, kept when it is
 *      still in such a pool, released when no pool needs it. IP-in-IP is not built (the lab's
 *      kernel has no ipip), so no IPIP address is allocated.
 *   5. The nodename file Felix and the CNI plugin read (`<varLibDir>/nodename`), and on the
 *      Kubernetes datastore the Node's NetworkUnavailable condition set to False.
 *
 * Every step is idempotent: a restarted init container converges to the same state.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  API_VERSION,
  checkResource,
  cidrContainsIP,
  formatCIDR,
  formatIP,
  isPlainObject,
  parseCIDR,
  parseIP,
  parseSelector,
  type CIDR,
  type Resource,
} from '@cattail/api';
import { AlreadyExistsError, ConflictError, NotFoundError, ensureInitialized, ipam, kdd, type Datastore } from '@cattail/datastore';
import {
  autodetect,
  describeMethod,
  hostInterfaces,
  netnsInterfaces,
  netnsSourceFor,
  withLocalPrefix,
  type AutodetectContext,
  type HostInterface,
} from './autodetect.js';
import type { AddressSetting, DefaultPoolSetting, StartupConfig } from './config.js';
import { StartupError } from './errors.js';

export interface StartupLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface StartupDeps {
  ds: Datastore;
  /** Written into ClusterInformation's calicoVersion. */
  version: string;
  log?: StartupLogger;
  /** The host's interfaces (default: `cfg.netns`'s, else this process's network namespace). */
  interfaces?: () => HostInterface[] | Promise<HostInterface[]>;
  sourceFor?: AutodetectContext['sourceFor'];
  /**
   * The Kubernetes API when the datastore is Kubernetes (its Node's addresses and condition).
   * Default: the datastore's own when it is a kdd.KubeDatastore; none on etcd.
   */
  kube?: KubeApi;
}

export type KubeApi = (method: 'GET' | 'PATCH', path: string, body?: unknown) => Promise<unknown>;

export interface StartupReport {
  node: string;
  ipv4Address?: string;
  ipv6Address?: string;
  poolsCreated: string[];
  vxlanTunnelAddress?: string;
  vxlanTunnelAddressV6?: string;
  networkUnavailableCleared: boolean;
}

const silent: StartupLogger = { info() {}, warn() {} };
const WRITE_ATTEMPTS = 5;
const V4_POOL = 'default-ipv4-ippool';
const V6_POOL = 'default-ipv6-ippool';

type Spec = Record<string, unknown>;

function specOf(r: Resource): Spec {
  return isPlainObject(r.spec) ? { ...r.spec } : {};
}

function bgpOf(spec: Spec): Spec {
  return isPlainObject(spec.bgp) ? { ...spec.bgp } : {};
}

/** Calico's defaults and validation, as every client write gets them; a failure names each field. */
function checked(doc: Resource): Resource {
  const res = checkResource(doc);
  if (res.ok) return res.resource;
  throw new StartupError('STARTUP_CONFIG', `${res.ref} would be invalid: ${res.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
}

function kubeApiOf(deps: StartupDeps): KubeApi | undefined {
  if (deps.kube) return deps.kube;
  const ds = deps.ds;
  return ds instanceof kdd.KubeDatastore ? (method, path, body) => ds.request(method, path, body) : undefined;
}

export async function runStartup(cfg: StartupConfig, deps: StartupDeps): Promise<StartupReport> {
  const { ds } = deps;
  const log = deps.log ?? silent;
  const report: StartupReport = { node: cfg.nodeName, poolsCreated: [], networkUnavailableCleared: false };
  const kube = kubeApiOf(deps);

  // 1. The Node.
  const addresses = await updateNodeAddresses(cfg, deps);
  report.ipv4Address = addresses.ipv4Address;
  report.ipv6Address = addresses.ipv6Address;

  // 2. Default pools.
  report.poolsCreated = await ensureDefaultPools(cfg, ds, log);

  // 3. Cluster defaults.
  await ensureInitialized(ds, { calicoVersion: deps.version, clusterType: cfg.clusterType });
  await ensureDefaultConfig(cfg, ds, kube !== undefined);

  // 4. Tunnel addresses.
  const tunnels = await reconcileTunnelAddresses(ds, cfg.nodeName, log);
  report.vxlanTunnelAddress = tunnels.v4;
  report.vxlanTunnelAddressV6 = tunnels.v6;

  // 5. The nodename file and the Kubernetes Node's condition.
  await writeNodenameFile(cfg.varLibDir, cfg.nodeName);
  if (kube && cfg.backend !== 'none') report.networkUnavailableCleared = await clearNetworkUnavailable(kube, cfg.k8sNodeName);
  log.info('node started up', { ...report });
  return report;
}

// --- 1. The Node -------------------------------------------------------------------------------

export interface NodeAddresses {
  ipv4Address?: string;
  ipv6Address?: string;
  /** The Node was written (an address, the AS number or the orchRef changed, or it was created). */
  written: boolean;
}

/**
 * Step 1 on its own, also what the address monitor repeats: the Node's addresses from IP / IP6
 * or a fresh autodetection on the interfaces as they are now (and, on the Kubernetes datastore,
 * the Node's addresses as the kubelet reports them now), written only when something changed.
 */
export async function updateNodeAddresses(cfg: StartupConfig, deps: StartupDeps): Promise<NodeAddresses> {
  const kube = kubeApiOf(deps);
  const k8sNode = kube ? await readKubeNode(kube, cfg.k8sNodeName) : undefined;
  const ctx: AutodetectContext = {
    interfaces: await (deps.interfaces ?? (cfg.netns ? () => netnsInterfaces(cfg.netns!) : hostInterfaces))(),
    kubernetesAddresses: k8sNode?.addresses,
    sourceFor: deps.sourceFor ?? (cfg.netns ? netnsSourceFor(cfg.netns) : undefined),
  };
  const { node, written } = await writeNode(cfg, deps.ds, kube !== undefined, ctx, deps.log ?? silent);
  const bgp = bgpOf(specOf(node));
  return {
    ipv4Address: typeof bgp.ipv4Address === 'string' ? bgp.ipv4Address : undefined,
    ipv6Address: typeof bgp.ipv6Address === 'string' ? bgp.ipv6Address : undefined,
    written,
  };
}

/**
 * Frees this Node's addresses of the families given (the monitor's answer to a conflict on an
 * autodetected address, as calico/node's clearNodeIPs): the other node may keep the address.
 */
export async function clearNodeAddresses(ds: Datastore, nodeName: string, families: { v4: boolean; v6: boolean }): Promise<void> {
  await updateNodeSpec(ds, nodeName, 'skip', (spec) => {
    const bgp = bgpOf(spec);
    if (families.v4) delete bgp.ipv4Address;
    if (families.v6) delete bgp.ipv6Address;
    if (Object.keys(bgp).length) spec.bgp = bgp;
    else delete spec.bgp;
  });
}

/**
 * Applies `change` to the Node's spec and writes it, read afresh and again after a conflict
 * (another writer in between; WRITE_ATTEMPTS in all); no write when the spec stays the same. A
 * Node that is not there is left alone (`skip`) or the NotFoundError is thrown (`fail`).
 */
async function updateNodeSpec(ds: Datastore, nodeName: string, missing: 'skip' | 'fail', change: (spec: Spec) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = missing === 'skip' ? await readNode(ds, nodeName) : await ds.get({ kind: 'Node', name: nodeName });
    if (!current) return;
    const spec = specOf(current);
    const before = JSON.stringify(spec);
    change(spec);
    if (JSON.stringify(spec) === before) return;
    try {
      await ds.update({ ...current, spec });
      return;
    } catch (err) {
      if (err instanceof ConflictError && attempt < WRITE_ATTEMPTS) continue;
      throw err;
    }
  }
}

interface KubeNodeView {
  addresses: { type: string; address: string }[];
}

async function readKubeNode(kube: KubeApi, name: string): Promise<KubeNodeView> {
  let obj: unknown;
  try {
    obj = await kube('GET', `/api/v1/nodes/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof kdd.KubeHttpError && err.statusCode === 404) {
      throw new StartupError(
        'STARTUP_NODE_MISSING',
        `no Kubernetes Node "${name}": the kubelet registers it; set NODENAME (or CALICO_K8S_NODE_REF) to its name`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  const status = isPlainObject(obj) && isPlainObject(obj.status) ? obj.status : {};
  const addresses = Array.isArray(status.addresses)
    ? status.addresses.filter((a): a is { type: string; address: string } => isPlainObject(a) && typeof a.type === 'string' && typeof a.address === 'string')
    : [];
  return { addresses };
}

async function readNode(ds: Datastore, name: string): Promise<Resource | undefined> {
  try {
    return await ds.get({ kind: 'Node', name });
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** The address a setting gives, or keeps; undefined for none. `current` is the Node's. */
async function resolveAddress(
  setting: AddressSetting,
  version: 4 | 6,
  current: string | undefined,
  ctx: AutodetectContext,
  log: StartupLogger,
): Promise<string | undefined> {
  const name = version === 4 ? 'IP' : 'IP6';
  if (setting.kind === 'none') return current;
  if (setting.kind === 'fixed') return setting.value.includes('/') ? setting.value : withLocalPrefix(setting.value, ctx.interfaces);
  // IP unset keeps the Node's address; with none yet it autodetects, as in Calico.
  if (setting.kind === 'unset' && current) return current;
  const found = await autodetect(setting.method, version, ctx);
  if (found) return found;
  if (current) {
    log.warn(`IPv${version} autodetection found nothing; keeping the Node's address`, { address: current, method: describeMethod(setting.method) });
    return current;
  }
  throw new StartupError(
    'STARTUP_NO_ADDRESS',
    `no IPv${version} address found by ${describeMethod(setting.method)} on ${ctx.interfaces.map((i) => i.name).join(', ') || 'no interface'}: set ${name} or ${name}_AUTODETECTION_METHOD`,
  );
}

function sameIP(a: unknown, b: string | undefined): boolean {
  if (typeof a !== 'string' || !b) return false;
  const x = parseIP(a.split('/')[0]);
  const y = parseIP(b.split('/')[0]);
  return !!x && !!y && formatIP(x) === formatIP(y);
}

async function checkConflicts(ds: Datastore, name: string, v4: string | undefined, v6: string | undefined): Promise<void> {
  const { items } = await ds.list('Node');
  for (const other of items) {
    if (other.metadata.name === name) continue;
    const bgp = bgpOf(specOf(other));
    for (const [mine, theirs] of [
      [v4, bgp.ipv4Address],
      [v6, bgp.ipv6Address],
    ] as const) {
      if (sameIP(theirs, mine)) {
        throw new StartupError(
          'STARTUP_ADDRESS_CONFLICT',
          `Node "${other.metadata.name}" already uses ${String(theirs)}: give this node another address (IP, IP6 or the autodetection method), or remove the stale Node`,
        );
      }
    }
  }
}

async function writeNode(
  cfg: StartupConfig,
  ds: Datastore,
  onKube: boolean,
  ctx: AutodetectContext,
  log: StartupLogger,
): Promise<{ node: Resource; written: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const current = await readNode(ds, cfg.nodeName);
    if (!current && onKube)
      throw new StartupError('STARTUP_NODE_MISSING', `no Node "${cfg.nodeName}" on the Kubernetes datastore: the kubelet registers it first`);
    const spec = current ? specOf(current) : {};
    const bgp = bgpOf(spec);
    const before = JSON.stringify(spec);
    if (cfg.backend !== 'none') {
      const v4 = await resolveAddress(cfg.ipv4, 4, typeof bgp.ipv4Address === 'string' ? bgp.ipv4Address : undefined, ctx, log);
      const v6 = await resolveAddress(cfg.ipv6, 6, typeof bgp.ipv6Address === 'string' ? bgp.ipv6Address : undefined, ctx, log);
      if (!v4 && !v6)
        throw new StartupError('STARTUP_NO_ADDRESS', 'neither an IPv4 nor an IPv6 address is configured or detected; Calico networking needs one');
      if (v4) bgp.ipv4Address = v4;
      else delete bgp.ipv4Address;
      if (v6) bgp.ipv6Address = v6;
      else delete bgp.ipv6Address;
      if (cfg.asNumber !== undefined) bgp.asNumber = cfg.asNumber;
      spec.bgp = bgp;
      const changed = !sameIP(current && bgpOf(specOf(current)).ipv4Address, v4) || !sameIP(current && bgpOf(specOf(current)).ipv6Address, v6);
      if (cfg.checkAddressConflicts && changed) await checkConflicts(ds, cfg.nodeName, v4, v6);
    }
    const refs = Array.isArray(spec.orchRefs) ? (spec.orchRefs as { nodeName?: string; orchestrator: string }[]) : [];
    if (!refs.some((r) => r.orchestrator === 'k8s' && r.nodeName === cfg.k8sNodeName)) {
      spec.orchRefs = [...refs.filter((r) => r.orchestrator !== 'k8s'), { nodeName: cfg.k8sNodeName, orchestrator: 'k8s' }];
    }
    if (current && JSON.stringify(spec) === before) return { node: current, written: false };
    try {
      if (!current) return { node: await ds.create(checked({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: cfg.nodeName }, spec })), written: true };
      return { node: await ds.update(checked({ ...current, spec })), written: true };
    } catch (err) {
      if ((err instanceof ConflictError || err instanceof AlreadyExistsError) && attempt < WRITE_ATTEMPTS) continue;
      throw err;
    }
  }
}

// --- 2. Default pools --------------------------------------------------------------------------

/** A random unique local /48 (RFC 4193), as calico/node generates its default IPv6 pool. */
function randomUlaPrefix(): CIDR {
  const b = randomBytes(5);
  const hex = (i: number): string => ((b[i] << 8) | b[i + 1]).toString(16);
  return parseCIDR(`fd${b[0].toString(16).padStart(2, '0')}:${hex(1)}:${hex(3)}::/48`)!;
}

async function ensureDefaultPools(cfg: StartupConfig, ds: Datastore, log: StartupLogger): Promise<string[]> {
  const { v4, v6 } = cfg.pools;
  if (!v4 && !v6) return [];
  const { items } = await ds.list('IPPool');
  const present = new Set(items.map((p) => parseCIDR(String(specOf(p).cidr ?? ''))?.version));
  const created: string[] = [];
  for (const [version, setting, name] of [
    [4, v4, V4_POOL],
    [6, v6, V6_POOL],
  ] as const) {
    if (!setting || present.has(version)) continue;
    const cidr = setting.cidr ?? randomUlaPrefix();
    try {
      await ds.create(checked({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name }, spec: poolSpec(cidr, setting) }));
      created.push(name);
      log.info('created the default pool', { pool: name, cidr: formatCIDR(cidr) });
    } catch (err) {
      // Another node's start-up was first: its pool stands.
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
  }
  return created;
}

function poolSpec(cidr: CIDR, s: DefaultPoolSetting): Spec {
  const spec: Spec = {
    cidr: formatCIDR(cidr),
    blockSize: s.blockSize,
    ipipMode: s.ipipMode,
    vxlanMode: s.vxlanMode,
    natOutgoing: s.natOutgoing,
  };
  if (s.nodeSelector) spec.nodeSelector = s.nodeSelector;
  if (s.disableBGPExport) spec.disableBGPExport = true;
  return spec;
}

// --- 3. Cluster defaults -----------------------------------------------------------------------

/** Creates `name` with `spec` if absent; else fills in the fields of `fill` that are unset. */
async function ensureConfig(ds: Datastore, kind: string, name: string, fill: Spec): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      let current: Resource;
      try {
        current = await ds.get({ kind, name });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        await ds.create(checked({ apiVersion: API_VERSION, kind, metadata: { name }, spec: { ...fill } }));
        return;
      }
      const spec = specOf(current);
      const missing = Object.entries(fill).filter(([k]) => spec[k] === undefined);
      if (missing.length === 0) return;
      await ds.update({ ...current, spec: { ...spec, ...Object.fromEntries(missing) } });
      return;
    } catch (err) {
      if ((err instanceof ConflictError || err instanceof AlreadyExistsError) && attempt < WRITE_ATTEMPTS) continue;
      throw err;
    }
  }
}

async function ensureDefaultConfig(cfg: StartupConfig, ds: Datastore, onKube: boolean): Promise<void> {
  await ensureConfig(ds, 'FelixConfiguration', 'default', { reportingInterval: '0s', logSeverityScreen: 'Info' });
  // Calico keeps no per-node FelixConfiguration on the Kubernetes datastore.
  if (!onKube) await ensureConfig(ds, 'FelixConfiguration', `node.${cfg.nodeName}`, { defaultEndpointToHostAction: 'Return' });
  await ensureConfig(ds, 'BGPConfiguration', 'default', {});
  await ensureConfig(ds, 'IPAMConfiguration', 'default', { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
}

// --- 4. Tunnel addresses -----------------------------------------------------------------------

interface TunnelFamily {
  version: 4 | 6;
  field: 'ipv4VXLANTunnelAddr' | 'ipv6VXLANTunnelAddr';
  handle: (node: string) => string;
  type: string;
}

const VXLAN_FAMILIES: readonly TunnelFamily[] = [
  { version: 4, field: 'ipv4VXLANTunnelAddr', handle: (n) => `vxlan-tunnel-addr-${n}`, type: 'vxlanTunnelAddress' },
  { version: 6, field: 'ipv6VXLANTunnelAddr', handle: (n) => `vxlan-v6-tunnel-addr-${n}`, type: 'vxlanV6TunnelAddress' },
];

/** Enabled VXLAN pools of `version` whose nodeSelector selects the node and that allow Tunnel use. */
function vxlanPools(pools: readonly Resource[], version: 4 | 6, labels: Record<string, string>): { name: string; cidr: CIDR }[] {
  const out: { name: string; cidr: CIDR }[] = [];
  for (const p of pools) {
    const spec = specOf(p);
    const cidr = parseCIDR(String(spec.cidr ?? ''));
    if (!cidr || cidr.version !== version || spec.disabled === true) continue;
    if ((spec.vxlanMode ?? 'Never') === 'Never') continue;
    const uses = Array.isArray(spec.allowedUses) ? spec.allowedUses : ['Workload', 'Tunnel'];
    if (!uses.includes('Tunnel')) continue;
    try {
      if (!parseSelector(String(spec.nodeSelector ?? '').trim() || 'all()').evaluate(labels)) continue;
    } catch {
      continue;
    }
    out.push({ name: p.metadata.name, cidr });
  }
  return out;
}

/**
 * Each family's VXLAN tunnel address: kept if it is held by the node's handle and inside a pool
 * that still serves, else re-allocated (from those pools) or released. The Node records it.
 */
export async function reconcileTunnelAddresses(ds: Datastore, nodeName: string, log: StartupLogger = silent): Promise<{ v4?: string; v6?: string }> {
  const client = new ipam.IpamClient(ds);
  const pools = (await ds.list('IPPool')).items;
  const out: { v4?: string; v6?: string } = {};
  for (const fam of VXLAN_FAMILIES) {
    const node = await ds.get({ kind: 'Node', name: nodeName });
    const serving = vxlanPools(pools, fam.version, { ...(node.metadata.labels ?? {}) });
    const handleId = fam.handle(nodeName);
    const held = (await client.ipsByHandle(handleId).catch(() => [])).filter((a) => a.version === fam.version);
    const inServing = (addr: string): boolean => serving.some((p) => cidrHolds(p.cidr, addr));
    let address = held.find((a) => inServing(a.address))?.address;
    if (!address || held.length > 1) {
      if (held.length > 0) await client.releaseByHandle(handleId);
      address = undefined;
      if (serving.length > 0) {
        const res = await client.autoAssign({
          handleId,
          node: nodeName,
          num4: fam.version === 4 ? 1 : 0,
          num6: fam.version === 6 ? 1 : 0,
          pools: serving.map((p) => p.name),
          attrs: { node: nodeName, type: fam.type },
          intendedUse: 'Tunnel',
        });
        address = (fam.version === 4 ? res.ipv4 : res.ipv6)[0]?.address;
        if (!address) log.warn('IPAM gave no VXLAN tunnel address', { version: fam.version, pools: serving.map((p) => p.name) });
      }
    }
    await setNodeField(ds, nodeName, fam.field, address);
    if (fam.version === 4) out.v4 = address;
    else out.v6 = address;
  }
  return out;
}

function cidrHolds(cidr: CIDR, addr: string): boolean {
  const ip = parseIP(addr);
  return !!ip && cidrContainsIP(cidr, ip);
}

async function setNodeField(ds: Datastore, nodeName: string, field: string, value: string | undefined): Promise<void> {
  await updateNodeSpec(ds, nodeName, 'fail', (spec) => {
    if (value === undefined) delete spec[field];
    else spec[field] = value;
  });
}

// --- 5. Files and the Kubernetes Node -----------------------------------------------------------

async function writeNodenameFile(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.nodename.${process.pid}`);
  await writeFile(tmp, name);
  await rename(tmp, join(dir, 'nodename'));
}

/**
 * Sets the Kubernetes Node's NetworkUnavailable condition to False (reason CalicoIsUp, as
 * calico/node). A merge patch replaces the whole conditions list, so it carries the list as read
 * with its resourceVersion: a kubelet status update in between makes it a conflict, re-read.
 */
async function clearNetworkUnavailable(kube: KubeApi, name: string): Promise<boolean> {
  const path = `/api/v1/nodes/${encodeURIComponent(name)}/status`;
  for (let attempt = 1; ; attempt++) {
    const obj = await kube('GET', `/api/v1/nodes/${encodeURIComponent(name)}`);
    const meta = isPlainObject(obj) && isPlainObject(obj.metadata) ? obj.metadata : {};
    const status = isPlainObject(obj) && isPlainObject(obj.status) ? obj.status : {};
    const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isPlainObject) : [];
    const current = conditions.find((c) => c.type === 'NetworkUnavailable');
    if (current?.status === 'False' && current.reason === 'CalicoIsUp') return true;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cond = {
      type: 'NetworkUnavailable',
      status: 'False',
      reason: 'CalicoIsUp',
      message: 'Calico is running on this node',
      lastTransitionTime: now,
      lastHeartbeatTime: now,
    };
    const next = [...conditions.filter((c) => c.type !== 'NetworkUnavailable'), cond];
    try {
      await kube('PATCH', path, { metadata: { resourceVersion: meta.resourceVersion }, status: { conditions: next } });
      return true;
    } catch (err) {
      if (err instanceof kdd.KubeHttpError && err.statusCode === 409 && attempt < WRITE_ATTEMPTS) continue;
      throw err;
    }
  }
}
