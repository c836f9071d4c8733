/**
 * `cattail ipam show`: calicoctl's views of IPAM, one per flag (they do not combine):
 *
 *   (none)                 the pool table: per IP pool, addresses in total, in use and free
 *   --show-blocks          the pool table with each pool's blocks under it, and an AFFINITY
 *                          column (ours: calicoctl's table has no affinity) naming the node a
 *                          block belongs to; blocks of no pool follow at the end
 *   --show-borrowed        addresses a node took from a block affine to another node (or none)
 *   --show-configuration   the IPAM settings allocation uses (IPAMConfiguration `default`)
 *   --ip=<IP>              whether one address is allocated, to which handle, with what attributes
 *
 * The layouts are calicoctl's, numbers included: totals as Go's `%.5g` (`65536`,
 * `1.2089e+24`), shares as `%.f%%` (rounded half to even). Newer calicoctl versions add IPS
 * RESERVED and IPS COOLING columns; this is the earlier five-column table.
 */
import { formatCIDR, formatIP } from '@cattail/api';
import { ipam } from '@cattail/datastore';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { allocationsOf, blockOwner, loadBlocks, loadPools, parseAddress, poolContaining, type BlockAllocation, type PoolInfo } from '../ipam/ipam-data.js';
import { formatBoxTable } from '../output/box-table.js';

export const ipamShowCommand: Command = {
  name: 'show',
  summary: 'Show details of a Calico assigned IP address, or of overall IP usage.',
  usage: `${BINARY_NAME} ipam show [--ip=<IP> | --show-blocks | --show-borrowed | --show-configuration] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    { name: 'ip', value: 'IP', help: 'Report whether this specific IP address is in use.' },
    { name: 'show-blocks', help: 'Show detailed information for IP blocks as well as pools.' },
    { name: 'show-borrowed', help: 'Show detailed information for "borrowed" IP addresses.' },
    { name: 'show-configuration', help: 'Show current Calico IPAM configuration.' },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  checksClusterVersion: true,
  description: `The ipam show command prints information about a given IP address, or about
overall IP usage. The flags choose one view each and cannot be combined.
With --show-blocks the table has an AFFINITY column (calicoctl's has none): the
node each block is affine to, "<none>" for a block of no node.`,
  run: runShow,
};

const VIEW_FLAGS = ['ip', 'show-blocks', 'show-borrowed', 'show-configuration'] as const;

async function runShow(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const given = VIEW_FLAGS.filter((f) => args.has(f));
  if (given.length > 1) throw new UsageError(`--${given[0]} and --${given[1]} cannot be combined: each chooses a different view`);
  const ipText = args.string('ip');
  const ip = ipText === undefined ? undefined : parseAddress(ipText);
  if (ipText !== undefined && !ip) throw new UsageError(`--ip: "${ipText}" is not an IP address`);

  const ds = await ctx.datastore();
  if (ip) {
    ctx.stdout.write(describeAddress(formatIP(ip), findAllocation(await loadBlocks(ds), formatIP(ip))));
  } else if (args.bool('show-borrowed')) {
    ctx.stdout.write(borrowedTable(await loadBlocks(ds)));
  } else if (args.bool('show-configuration')) {
    const s = await ipam.readIpamSettings(ds);
    const rows = [
      ['StrictAffinity', String(s.strictAffinity)],
      ['AutoAllocateBlocks', String(s.autoAllocateBlocks)],
      ['MaxBlocksPerHost', String(s.maxBlocksPerHost)],
    ];
    ctx.stdout.write(formatBoxTable(['PROPERTY', 'VALUE'], rows));
  } else {
    const [pools, blocks] = await Promise.all([loadPools(ds), loadBlocks(ds)]);
    ctx.stdout.write(utilizationTable(pools, blocks, args.bool('show-blocks')));
  }
  return 0;
}

function findAllocation(blocks: readonly ipam.StoredBlock[], ip: string): BlockAllocation | undefined {
  for (const b of blocks) {
    const found = allocationsOf(b).find((a) => a.ip === ip);
    if (found) return found;
  }
  return undefined;
}

function describeAddress(ip: string, a: BlockAllocation | undefined): string {
  if (!a) return `${ip} is not assigned\n`;
  const lines = [`IP ${ip} is in use`, `Handle ID: ${a.handle ?? '<none>'}`];
  const attrLines = (title: string, attrs: Readonly<Record<string, string>>): string[] => {
    const keys = Object.keys(attrs).sort();
    return keys.length === 0 ? [] : [`${title}:`, ...keys.map((k) => `  ${k}: ${attrs[k]}`)];
  };
  const active = attrLines('Active Owner Attributes', a.attrs);
  lines.push(...(active.length ? active : ['No Active Owner attributes defined']));
  lines.push(...attrLines('Alternate Owner Attributes', a.alternate));
  return `${lines.join('\n')}\n`;
}

function utilizationTable(pools: readonly PoolInfo[], blocks: readonly ipam.StoredBlock[], showBlocks: boolean): string {
  const rows: string[][] = [];
  const inUse = (b: ipam.StoredBlock): number => b.block.allocations.filter((x) => x !== null).length;
  const blockRow = (b: ipam.StoredBlock): string[] => {
    const size = ipam.blockSize(b.cidr);
    return [...usageRow('Block', formatCIDR(b.cidr), size, inUse(b)), b.block.affinity ?? '<none>'];
  };
  const placed = new Set<ipam.StoredBlock>();
  for (const pool of pools) {
    const mine = blocks.filter((b) => poolContaining([pool], b.cidr) !== undefined && !placed.has(b));
    for (const b of mine) placed.add(b);
    const capacity = 2 ** (ipam.addressBits(pool.cidr.version) - pool.cidr.prefix);
    const used = mine.reduce((n, b) => n + inUse(b), 0);
    rows.push([...usageRow('IP Pool', formatCIDR(pool.cidr), capacity, used), ...(showBlocks ? [''] : [])]);
    if (showBlocks) rows.push(...mine.map(blockRow));
  }
  // Blocks of no pool (their pool was deleted): no pool row, as calicoctl prints none for them.
  if (showBlocks) rows.push(...blocks.filter((b) => !placed.has(b)).map(blockRow));
  const headings = ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE', ...(showBlocks ? ['AFFINITY'] : [])];
  return formatBoxTable(headings, rows, [2]);
}

function usageRow(grouping: string, cidr: string, capacity: number, used: number): string[] {
  const share = (n: number): string => `${goG5(n)} (${goPercent((100 * n) / capacity)}%)`;
  return [grouping, cidr, goG5(capacity), share(used), share(capacity - used)];
}

/** Go's `%.5g`: five significant digits, trailing zeros dropped, exponent form from 1e5 up (`1.0486e+06`). */
export function goG5(v: number): string {
  if (v === 0) return '0';
  const [mantissa, expText] = v.toExponential(4).split('e');
  const exp = Number(expText);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 5) return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(v.toPrecision(5));
}

/** Go's `%.f`: rounded to an integer, exact halves to the even neighbour. */
export function goPercent(v: number): string {
  const floor = Math.floor(v);
  const diff = v - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return String(rounded);
}

function borrowedTable(blocks: readonly ipam.StoredBlock[]): string {
  const rows: string[][] = [];
  let unclassified = 0;
  for (const b of blocks) {
    const owner = blockOwner(b);
    for (const a of allocationsOf(b)) {
      const node = a.attrs.node;
      if (node === undefined) {
        unclassified++;
        continue;
      }
      if (node === owner) continue;
      let type = a.attrs.type ?? '';
      let allocatedTo = '';
      if (a.attrs.pod !== undefined) {
        type = 'pod';
        allocatedTo = `${a.attrs.namespace ?? ''}/${a.attrs.pod}`;
      }
      rows.push([a.ip, node, formatCIDR(b.cidr), owner, type, allocatedTo]);
    }
  }
  let out = formatBoxTable(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows);
  if (unclassified > 0) {
    out += `\nNote: found ${unclassified} IP allocations without an explicit node association. Unable to determine if they are borrowed.\n`;
  }
  return out;
}
