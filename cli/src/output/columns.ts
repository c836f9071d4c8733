/**
 * The columns of `get -o ps|wide|custom-columns=...` per kind: calicoctl's default and wide
 * headings and what each shows (calicoctl/resourcemgr/<kind>.go), as functions of the resource
 * instead of Go templates. A kind whose heading map has NAMESPACE gets that column first when
 * -n or -A is given, as in calicoctl.
 *
 * IPAMBlock, BlockAffinity and IPAMHandle are ours (calicoctl has no `get` for them).
 */
import type { Resource } from '@cattail/api';

/** What a cell may need beyond the resource: the cluster's default AS number (Node's ASN column). */
export interface CellContext {
  readonly defaultAsNumber: string;
}

type Cell = (res: Resource, ctx: CellContext) => string;

export interface KindColumns {
  readonly ps: readonly string[];
  readonly wide: readonly string[];
  readonly cells: Readonly<Record<string, Cell>>;
}

const name: Cell = (r) => r.metadata.name;
const namespace: Cell = (r) => r.metadata.namespace ?? '';

function spec(r: Resource): Record<string, unknown> {
  return r.spec ?? {};
}

/** `{{.Spec.X}}`: the value as Go prints it; absent booleans are Go's zero value `false`. */
function field(key: string, zero = ''): Cell {
  return (r) => show(spec(r)[key], zero);
}

/** `{{if .Spec.X}}{{.Spec.X}}{{else}}<fallback>{{end}}` */
function fieldOr(key: string, fallback: string): Cell {
  return (r) => {
    const v = spec(r)[key];
    return v === undefined || v === null || v === '' ? fallback : show(v, '');
  };
}

/** `{{join .Spec.X ","}}`, optionally `joinAndTruncate` at `max` characters. */
function joined(key: string, max = 0): Cell {
  return (r) => joinValues(spec(r)[key], max);
}

export function show(v: unknown, zero: string): string {
  if (v === undefined || v === null) return zero;
  if (Array.isArray(v)) return v.map((x) => show(x, '')).join(' ');
  if (typeof v === 'object') {
    // Go prints a struct as {field field}; the only struct cells here are WEP NATs.
    return `{${Object.values(v as Record<string, unknown>)
      .map((x) => show(x, ''))
      .join(' ')}}`;
  }
  return String(v);
}

function joinValues(v: unknown, max: number): string {
  let items: string[];
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) items = v.map((x) => show(x, ''));
  else if (typeof v === 'object') {
    items = Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${show(x, '')}`)
      .sort();
  } else items = [show(v, '')];
  const text = items.join(',');
  return max > 0 && text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

const COLUMNS: Record<string, KindColumns> = {
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    cells: {
      NAME: name,
      LOGSEVERITY: field('logSeverityScreen'),
      MESHENABLED: (r) => show(spec(r).nodeToNodeMeshEnabled, '-'),
      ASNUMBER: (r) => show(spec(r).asNumber, '-'),
    },
  },
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    cells: {
      NAME: name,
      PEERIP: field('peerIP'),
      NODE: (r) => show(spec(r).node, '') || show(spec(r).nodeSelector, '') || '(global)',
      ASN: field('asNumber'),
    },
  },
  ClusterInformation: {
    ps: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    wide: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    cells: {
      NAME: name,
      CLUSTERGUID: field('clusterGUID'),
      CLUSTERTYPE: field('clusterType'),
      CALICOVERSION: field('calicoVersion'),
      DATASTOREREADY: field('datastoreReady'),
    },
  },
  FelixConfiguration: { ps: ['NAME'], wide: ['NAME'], cells: { NAME: name } },
  GlobalNetworkPolicy: {
    ps: ['NAME'],
    wide: ['NAME', 'ORDER', 'SELECTOR'],
    cells: { NAME: name, ORDER: field('order'), SELECTOR: field('selector') },
  },
  GlobalNetworkSet: {
    ps: ['NAME'],
    wide: ['NAME', 'NETS'],
    cells: { NAME: name, NETS: joined('nets', 80) },
  },
  HostEndpoint: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    cells: {
      NAME: name,
      NODE: field('node'),
      INTERFACE: field('interfaceName'),
      IPS: joined('expectedIPs'),
      PROFILES: joined('profiles'),
    },
  },
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR'],
    cells: {
      NAME: name,
      CIDR: field('cidr'),
      NAT: field('natOutgoing', 'false'),
      IPIPMODE: fieldOr('ipipMode', 'Never'),
      VXLANMODE: fieldOr('vxlanMode', 'Never'),
      DISABLED: field('disabled', 'false'),
      DISABLEBGPEXPORT: field('disableBGPExport', 'false'),
      SELECTOR: field('nodeSelector'),
    },
  },
  IPReservation: {
    ps: ['NAME'],
    wide: ['NAME', 'CIDRS'],
    cells: { NAME: name, CIDRS: joined('reservedCIDRs', 80) },
  },
  NetworkPolicy: {
    ps: ['NAME', 'TIER'],
    wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'],
    cells: { NAME: name, NAMESPACE: namespace, TIER: field('tier'), ORDER: field('order'), SELECTOR: field('selector') },
  },
  NetworkSet: {
    ps: ['NAME'],
    wide: ['NAME', 'NETS'],
    cells: { NAME: name, NAMESPACE: namespace, NETS: joined('nets', 80) },
  },
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    cells: {
      NAME: name,
      ASN: (r, ctx) => {
        const bgp = spec(r).bgp as Record<string, unknown> | undefined;
        if (!bgp) return '';
        return bgp.asNumber !== undefined && bgp.asNumber !== null ? show(bgp.asNumber, '') : `(${ctx.defaultAsNumber})`;
      },
      IPV4: (r) => show((spec(r).bgp as Record<string, unknown> | undefined)?.ipv4Address, ''),
      IPV6: (r) => show((spec(r).bgp as Record<string, unknown> | undefined)?.ipv6Address, ''),
    },
  },
  Profile: {
    ps: ['NAME'],
    wide: ['NAME', 'LABELS'],
    cells: { NAME: name, LABELS: joined('labelsToApply') },
  },
  Tier: { ps: ['NAME', 'ORDER'], wide: ['NAME', 'ORDER'], cells: { NAME: name, ORDER: field('order') } },
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    cells: {
      NAME: name,
      NAMESPACE: namespace,
      NODE: field('node'),
      ORCHESTRATOR: field('orchestrator'),
      WORKLOAD: (r) => show(spec(r).workload, '') || show(spec(r).pod, ''),
      NETWORKS: joined('ipNetworks'),
      NATS: joined('ipNATs'),
      PROFILES: joined('profiles'),
      INTERFACE: field('interfaceName'),
    },
  },
  IPAMConfiguration: {
    ps: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    cells: {
      NAME: name,
      STRICTAFFINITY: field('strictAffinity', 'false'),
      AUTOALLOCATEBLOCKS: field('autoAllocateBlocks', 'false'),
      MAXBLOCKSPERHOST: field('maxBlocksPerHost', '0'),
    },
  },
  IPAMBlock: {
    ps: ['NAME', 'CIDR', 'AFFINITY'],
    wide: ['NAME', 'CIDR', 'AFFINITY'],
    cells: { NAME: name, CIDR: field('cidr'), AFFINITY: field('affinity') },
  },
  BlockAffinity: {
    ps: ['NAME', 'NODE', 'CIDR', 'STATE'],
    wide: ['NAME', 'NODE', 'CIDR', 'STATE'],
    cells: { NAME: name, NODE: field('node'), CIDR: field('cidr'), STATE: field('state') },
  },
  IPAMHandle: { ps: ['NAME'], wide: ['NAME'], cells: { NAME: name } },
};

const NAME_ONLY: KindColumns = { ps: ['NAME'], wide: ['NAME'], cells: { NAME: name } };

export function columnsFor(kind: string): KindColumns {
  return COLUMNS[kind] ?? NAME_ONLY;
}
