/**
 * `cattail ipam split <NUMBER> (--cidr=<CIDR> | --name=<POOL_NAME>)`: calicoctl's split of one IP
 * pool into NUMBER (a power of 2) equal child pools with the parent's settings.
 *
 *   flags ─▶ datastore locked? (datastore migrate lock: no IPAM change meanwhile) ─▶ the pool
 *   ─▶ each child at least one block ─▶ create the children ─▶ delete the parent
 *
 * Blocks, affinities and handles name CIDRs, not pools, so every allocation stays valid: each
 * block lies in exactly one child. The children are written before the parent goes, so an
 * interrupted split leaves the parent (and some children, which only overlap it): running the
 * same command again creates the missing children and finishes. Children are named
 * `<parent>-<i>` (i from 0, in address order); a child that exists with another CIDR stops the
 * split before anything is written.
 */
import { formatCIDR, parseCIDR, type CIDR, type Resource } from '@cattail/api';
import { ipam, NotFoundError, type Datastore } from '@cattail/datastore';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';

const DEFAULT_BLOCK = { 4: 26, 6: 122 } as const;

export const ipamSplitCommand: Command = {
  name: 'split',
  summary: 'Split an IP pool into smaller pools.',
  usage: `${BINARY_NAME} ipam split <NUMBER> [--cidr=<CIDR>] [--name=<POOL_NAME>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    { name: 'cidr', value: 'CIDR', help: 'CIDR of the IP pool to split.' },
    { name: 'name', value: 'POOL_NAME', help: 'Name of the IP pool to split.' },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  checksClusterVersion: true,
  description: `The ipam split command splits an IP pool specified by the specified CIDR or name
into the specified number of smaller IP pools. Each child IP pool will be of equal
size. IP pools can only be split into a number of smaller pools that is a power
of 2. The datastore must be locked (${BINARY_NAME} datastore migrate lock) so that no IPAM
data changes during the split; unlock it afterwards.

Examples:
  # Split the IP pool specified by 172.0.0.0/8 into 2 smaller pools
  ${BINARY_NAME} ipam split --cidr=172.0.0.0/8 2`,
  run: runSplit,
};

async function runSplit(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length !== 1)
    throw new UsageError(args.positionals.length === 0 ? 'NUMBER is required' : `unexpected argument "${args.positionals[1]}"`);
  const n = /^\d+$/.test(args.positionals[0]) ? Number(args.positionals[0]) : NaN;
  if (!(n >= 2) || !Number.isSafeInteger(n) || (n & (n - 1)) !== 0)
    throw new UsageError(`NUMBER must be a power of 2 of at least 2, got "${args.positionals[0]}"`);
  const cidrArg = args.string('cidr');
  const nameArg = args.string('name');
  if ((cidrArg === undefined) === (nameArg === undefined)) throw new UsageError('give exactly one of --cidr and --name');
  const wanted = cidrArg !== undefined ? parseCIDR(cidrArg) : undefined;
  if (cidrArg !== undefined && !wanted) throw new UsageError(`--cidr "${cidrArg}" is not a CIDR`);

  const ds = await ctx.datastore();
  if ((await clusterInfo(ds))?.spec?.datastoreReady !== false) {
    throw new CommandFailedError(`Datastore is not locked. Run the ${BINARY_NAME} datastore migrate lock command in order to split the IP pools.`);
  }
  const pools = (await ds.list('IPPool')).items;
  const parent = pools.find((p) => (wanted ? sameCidr(p, wanted) : p.metadata.name === nameArg));
  if (!parent) throw new CommandFailedError(`IP pool ${cidrArg ?? nameArg} not found`);
  const cidr = parseCIDR(String(parent.spec?.cidr ?? ''));
  if (!cidr) throw new CommandFailedError(`IP pool ${parent.metadata.name} has no valid CIDR`);
  const blockSize = typeof parent.spec?.blockSize === 'number' ? parent.spec.blockSize : DEFAULT_BLOCK[cidr.version];
  const childPrefix = cidr.prefix + Math.log2(n);
  if (childPrefix > blockSize) {
    throw new CommandFailedError(
      `cannot split ${formatCIDR(cidr)} into ${n}: each child would be a /${childPrefix}, smaller than one block (/${blockSize}); split into at most ${2 ** (blockSize - cidr.prefix)}`,
    );
  }
  const children = Array.from({ length: n }, (_, i) => parseCIDR(ipam.nthBlock(cidr, childPrefix, BigInt(i)))!).map((c, i): Resource => ({
    apiVersion: parent.apiVersion,
    kind: 'IPPool',
    metadata: { name: `${parent.metadata.name}-${i}`, ...(parent.metadata.labels ? { labels: { ...parent.metadata.labels } } : {}) },
    spec: { ...parent.spec, cidr: formatCIDR(c) },
  }));
  // Nothing is written if a child's name is taken by another pool.
  for (const c of children) {
    const existing = pools.find((p) => p.metadata.name === c.metadata.name);
    if (existing && existing.spec?.cidr !== c.spec?.cidr) {
      throw new CommandFailedError(`IP pool ${c.metadata.name} already exists with CIDR ${String(existing.spec?.cidr)}; nothing was changed`);
    }
  }
  for (const c of children) {
    if (pools.some((p) => p.metadata.name === c.metadata.name)) continue; // an earlier, interrupted run made it
    await ds.create(c);
  }
  try {
    await ds.delete({ kind: 'IPPool', name: parent.metadata.name });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  writeLine(
    ctx.stdout,
    `Successfully split IP pool ${formatCIDR(cidr)} into ${n} pools: ${children.map((c) => `${c.metadata.name} (${String(c.spec?.cidr)})`).join(', ')}`,
  );
  return 0;
}

async function clusterInfo(ds: Datastore): Promise<Resource | undefined> {
  try {
    return await ds.get({ kind: 'ClusterInformation', name: 'default' });
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

function sameCidr(pool: Resource, c: CIDR): boolean {
  const p = parseCIDR(String(pool.spec?.cidr ?? ''));
  return p !== undefined && formatCIDR(p) === formatCIDR(c);
}
