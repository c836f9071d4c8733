/**
 * `cattail ipam check [-o FILE] [--show-all-ips] [--show-problem-ips]`: calicoctl's consistency
 * check of IPAM against what the cluster uses, with its report lines in its order:
 *
 *   - every allocation in every block, against the addresses in use (workload endpoints'
 *     ipNetworks, nodes' tunnel addresses): an allocation nobody uses is leaked
 *   - addresses in use that no block allocates, inside an active pool or outside every pool
 *   - handles no block allocation refers to (leaked handles), and handles blocks refer to that
 *     do not exist
 *   - ours, after calicoctl's: blocks affine to a node that has no Node resource
 *
 * calicoctl also counts Kubernetes LoadBalancer service addresses; on the etcd datastore there
 * are none to read, so that step is left out. `-o FILE` writes calicoctl's JSON report
 * (ipam/check-report.ts), the input of `ipam release --from-report`.
 */
import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { formatCIDR, isPlainObject, parseIP, type Resource } from '@cattail/api';
import { ipam, type Datastore } from '@cattail/datastore';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, UsageError, firstLine } from '../errors.js';
import { writeLine } from '../io.js';
import { allocationsOf, blockOwner, compareIPText, loadAddressUsers, loadBlocks, loadPools, WINDOWS_RESERVED_HANDLE } from '../ipam/ipam-data.js';
import { reportJson, type CheckReport, type LeakedHandle, type ReportAllocation } from '../ipam/check-report.js';
import { hasCode } from '../resource-actions.js';
import { clientVersion } from '../version-info.js';

export const ipamCheckCommand: Command = {
  name: 'check',
  summary: 'Check the integrity of the IPAM data structures.',
  usage: `${BINARY_NAME} ipam check [--show-all-ips] [--show-problem-ips] [--output=<FILE>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    { name: 'output', short: 'o', value: 'FILE', help: 'Path to output report file.' },
    { name: 'show-all-ips', help: 'Print all IPs that are checked.' },
    { name: 'show-problem-ips', help: 'Print all IPs that are leaked or not allocated properly.' },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  checksClusterVersion: true,
  description: `The ipam check command checks the integrity of the IPAM data structures against
the workload endpoints and nodes in the datastore. It changes nothing. The report
written with -o is the input of "${BINARY_NAME} ipam release --from-report".`,
  run: runCheck,
};

interface ClusterInfo {
  guid: string;
  type: string;
  revision: string;
  locked: boolean;
}

async function runCheck(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const showAll = args.bool('show-all-ips');
  const showProblems = showAll || args.bool('show-problem-ips');
  const output = args.string('output');
  const outPath = output === undefined ? undefined : resolve(ctx.cwd, output);
  if (output === '') throw new UsageError('--output needs a file name');
  if (outPath !== undefined) await checkWritableDir(outPath);

  const ds = await ctx.datastore();
  const out = (line = ''): void => writeLine(ctx.stdout, line);
  out('Checking IPAM for inconsistencies...');
  out();
  const cluster = await clusterInfo(ds);

  const allocations = new Map<string, ReportAllocation[]>();
  const byNode = new Map<string, number>();
  const inUseHandles = new Set<string>();
  const reservedForWindows = new Set<string>();
  const nodelessBlocks: string[] = [];
  /** calicoctl prints an allocation's block attributes when it reports it leaked. */
  const attrsOf = new Map<ReportAllocation, string>();

  out('Loading all IPAM blocks...');
  const blocks = await loadBlocks(ds);
  out(`Found ${blocks.length} IPAM blocks.`);
  let numAllocs = 0;
  for (const b of blocks) {
    out(` IPAM block ${b.block.cidr} affinity=${b.block.affinity ?? '<none>'}:`);
    const owner = blockOwner(b);
    for (const a of allocationsOf(b)) {
      numAllocs++;
      if (a.handle === WINDOWS_RESERVED_HANDLE) reservedForWindows.add(a.ip);
      else if (a.handle !== undefined) inUseHandles.add(a.handle);
      const node = a.attrs.node || owner;
      const entry: ReportAllocation = { ip: a.ip, sequenceNumber: a.sequenceNumber, inUse: false, owners: null };
      if (a.handle !== undefined && a.handle !== WINDOWS_RESERVED_HANDLE) entry.handle = a.handle;
      if (a.attrs.pod) entry.pod = a.attrs.pod;
      if (a.attrs.namespace) entry.namespace = a.attrs.namespace;
      if (node) entry.node = node;
      if (a.attrs.type) entry.type = a.attrs.type;
      if (a.attrs.timestamp) entry.creationTimestamp = a.attrs.timestamp;
      if (node !== owner) entry.borrowed = true;
      allocations.set(a.ip, [...(allocations.get(a.ip) ?? []), entry]);
      attrsOf.set(entry, attrString(a.handle, a.attrs));
      byNode.set(node, (byNode.get(node) ?? 0) + 1);
      if (showAll) out(`  ${a.ip} allocated; attrs ${attrsOf.get(entry)}`);
    }
  }
  out(`IPAM blocks record ${numAllocs} allocations.`);
  out();

  out('Loading all IPAM pools...');
  const activePools = (await loadPools(ds)).filter((p) => !p.disabled);
  for (const p of activePools) out(`  ${formatCIDR(p.cidr)}`);
  out(`Found ${activePools.length} active IP pools.`);
  out();

  const inUse = new Map<string, string[]>();
  const markInUse = (ip: string, owner: string): void => {
    if (showAll) out(`  ${ip} belongs to ${owner}`);
    inUse.set(ip, [...(inUse.get(ip) ?? []), owner]);
    for (const a of allocations.get(ip) ?? []) {
      a.inUse = true;
      a.owners = [...(a.owners ?? []), owner];
    }
  };
  for (const ip of reservedForWindows) markInUse(ip, 'Reserved for Windows');
  out('Loading all nodes.');
  const users = await loadAddressUsers(ds);
  for (const u of users.nodes) markInUse(u.ip, u.owner);
  out(`Found ${users.nodes.length} node tunnel IPs.`);
  out();
  out('Loading all workload endpoints.');
  for (const u of users.workloads) markInUse(u.ip, u.owner);
  out(`Found ${users.workloads.length} workload IPs.`);
  out(`Workloads and nodes are using ${inUse.size} IPs.`);
  out();

  out('Loading all handles');
  const handles = new Map<string, Resource>();
  for (const h of (await ds.list('IPAMHandle')).items) handles.set(h.metadata.name, h);

  const topNodes = [...byNode].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  out('Looking for top (up to 20) nodes by allocations...');
  for (const [node, n] of topNodes.slice(0, 20)) out(`  ${node} has ${n} allocations`);
  if (topNodes.length > 0) out(`Node with most allocations has ${topNodes[0][1]}; median is ${topNodes[Math.floor(topNodes.length / 2)][1]}`);
  out();

  let problems = 0;
  out('Scanning for IPs that are allocated but not actually in use...');
  const leakedIPs = [...allocations].filter(([ip]) => !inUse.has(ip)).sort(([x], [y]) => compareIPText(x, y));
  for (const [ip, allocs] of leakedIPs) {
    if (showProblems) for (const a of allocs) out(`  ${ip} leaked; attrs ${attrsOf.get(a)}`);
  }
  problems += leakedIPs.length;
  out(`Found ${leakedIPs.length} IPs that are allocated in IPAM but not actually in use.`);

  out('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...');
  let notInPools = 0;
  let notAllocated = 0;
  for (const [ip, owners] of [...inUse].sort(([x], [y]) => compareIPText(x, y))) {
    if (showProblems && owners.length > 1) out(`  ${ip} has multiple owners.`);
    if (allocations.has(ip)) continue;
    const addr = parseIP(ip)!;
    const inPool = activePools.some((p) => ipam.ordinalOf(p.cidr, addr) !== undefined);
    if (showProblems) {
      for (const o of owners)
        out(inPool ? `  ${ip} in use by ${o} and in active IPAM pool but has no IPAM allocation.` : `  ${ip} in use by ${o} is not in any active IP pool.`);
    }
    if (inPool) notAllocated++;
    else notInPools++;
  }
  problems += notInPools + notAllocated;
  out(`Found ${notInPools} in-use IPs that are not in active IP pools.`);
  out(`Found ${notAllocated} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`);
  out();

  out('Scanning for IPAM handles with no matching IPs...');
  const leakedHandles: LeakedHandle[] = [];
  for (const [id, h] of [...handles].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (inUseHandles.has(id)) continue;
    if (showAll) out(`  ${id} doesn't have any active IPs.`);
    leakedHandles.push({ ID: id, UID: h.metadata.uid ?? null, Revision: h.metadata.resourceVersion ?? '' });
  }
  problems += leakedHandles.length;
  out(`Found ${leakedHandles.length} handles with no matching IPs (and ${handles.size - leakedHandles.length} handles with matches).`);

  out('Scanning for IPs with missing handle...');
  const missingHandles = [...inUseHandles].filter((id) => !handles.has(id)).sort();
  if (showProblems) for (const id of missingHandles) out(`  ${id} is in use in a block but doesn't exist.`);
  out(`Found ${missingHandles.length} handles mentioned in blocks with no matching handle resource.`);

  out('Scanning for IPAM blocks affine to nodes that do not exist...');
  const nodes = new Set((await ds.list('Node')).items.map((n) => n.metadata.name));
  for (const b of blocks) {
    const owner = blockOwner(b);
    if (b.block.affinity?.startsWith('host:') && !nodes.has(owner)) nodelessBlocks.push(`${b.block.cidr} (node ${owner})`);
  }
  if (showProblems) for (const b of nodelessBlocks) out(`  ${b} has no Node resource.`);
  problems += nodelessBlocks.length;
  out(`Found ${nodelessBlocks.length} blocks affine to nodes with no Node resource.`);

  out(`Check complete; found ${problems} problems.`);

  if (outPath !== undefined) {
    const report: CheckReport = {
      version: clientVersion(),
      clusterGUID: cluster.guid,
      datastoreLocked: cluster.locked,
      clusterInformationRevision: cluster.revision,
      clusterType: cluster.type,
      allocations: Object.fromEntries(allocations),
      leakedHandles,
    };
    try {
      await writeFile(outPath, reportJson(report));
    } catch (err) {
      throw new CommandFailedError(`cannot write the report to ${output}: ${firstLine(err)}`, 1, { cause: err });
    }
  }
  return 0;
}

/** Fails before connecting when the report could not be written: the check may take a while. */
async function checkWritableDir(path: string): Promise<void> {
  const dir = dirname(path);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`--output: directory ${dir} does not exist`);
}

async function clusterInfo(ds: Datastore): Promise<ClusterInfo> {
  let res: Resource;
  try {
    res = await ds.get({ kind: 'ClusterInformation', name: 'default' });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (hasCode(err, 'DATASTORE_NOT_FOUND')) {
      throw new CommandFailedError(
        'ClusterInformation "default" does not exist: the datastore was never initialized (cattail apply does it on its first write)',
      );
    }
    throw err;
  }
  const spec = isPlainObject(res.spec) ? res.spec : {};
  return {
    guid: typeof spec.clusterGUID === 'string' ? spec.clusterGUID : '',
    type: typeof spec.clusterType === 'string' ? spec.clusterType : '',
    revision: res.metadata.resourceVersion ?? '',
    locked: spec.datastoreReady === false,
  };
}

/** calicoctl's `Main:<handle> Extra:k=v,k=v` (keys sorted). */
function attrString(handle: string | undefined, attrs: Readonly<Record<string, string>>): string {
  const extra = Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${attrs[k]}`)
    .join(',');
  return `Main:${handle ?? '<none>'} Extra:${extra}`;
}
