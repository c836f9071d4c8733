/**
 * kube-controllers' Prometheus metrics in the text exposition format, computed on each scrape
 * from the elector's and the IPAM collector's status. The IPAM names and labels are
 * calico-kube-controllers' (`ipam_allocations_in_use{ippool,node}`, `ipam_allocations_borrowed`,
 * `ipam_allocations_gc_candidates`, `ipam_allocations_gc_reclamations`, `ipam_blocks`), so
 * Calico's dashboards read them; ours carry the `cattail_kube_controllers_` prefix.
 */
import type { IpamGcStatus } from './ipam-gc.js';
import type { LeaderStatus } from './leader-elector.js';

interface Metric {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples: ReadonlyArray<readonly [labels: string, value: number]>;
}

function quote(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function poolNode(pool: string, node: string): string {
  return `{ippool="${quote(pool)}",node="${quote(node)}"}`;
}

export interface KubeControllersMetricsInput {
  readonly leader: LeaderStatus;
  /** Undefined while this instance has never led (no sweep has run here). */
  readonly ipam: IpamGcStatus | undefined;
}

function metricsOf(s: KubeControllersMetricsInput): Metric[] {
  const out: Metric[] = [
    {
      name: 'cattail_kube_controllers_leader',
      type: 'gauge',
      help: '1 while this instance holds the Lease and runs the controllers.',
      samples: [['', s.leader.leader ? 1 : 0]],
    },
    {
      name: 'cattail_kube_controllers_leader_acquisitions_total',
      type: 'counter',
      help: 'Times this instance became leader.',
      samples: [['', s.leader.acquisitions]],
    },
    { name: 'cattail_kube_controllers_lease_errors_total', type: 'counter', help: 'Failed reads or writes of the Lease.', samples: [['', s.leader.errors]] },
  ];
  const g = s.ipam;
  if (!g) return out;
  const gauge = (name: string, help: string, pick: (x: IpamGcStatus['gauges'][number]) => number): Metric => ({
    name,
    type: 'gauge',
    help,
    samples: g.gauges.map((x) => [poolNode(x.pool, x.node), pick(x)] as const),
  });
  out.push(
    gauge('ipam_allocations_in_use', 'IP addresses allocated, by pool and node.', (x) => x.inUse),
    gauge('ipam_allocations_borrowed', 'IP addresses allocated from a block affine to another node.', (x) => x.borrowed),
    gauge('ipam_allocations_gc_candidates', 'Allocations that look leaked and wait out the grace period.', (x) => x.candidates),
    gauge('ipam_blocks', 'IPAM blocks, by pool and affine node.', (x) => x.blocks),
    {
      name: 'ipam_allocations_gc_reclamations',
      type: 'counter',
      help: 'Leaked IP addresses released by the garbage collector.',
      samples: [...g.reclamations].map(([k, v]) => {
        const [pool, node] = k.split('|');
        return [poolNode(pool, node), v] as const;
      }),
    },
    { name: 'cattail_kube_controllers_ipam_sweeps_total', type: 'counter', help: 'IPAM garbage-collection sweeps completed.', samples: [['', g.sweeps]] },
    {
      name: 'cattail_kube_controllers_ipam_sweep_errors_total',
      type: 'counter',
      help: 'IPAM sweeps that failed (retried next period).',
      samples: [['', g.sweepErrors]],
    },
    {
      name: 'cattail_kube_controllers_block_affinities_released_total',
      type: 'counter',
      help: 'Block affinities of deleted nodes released.',
      samples: [['', g.affinitiesReleased]],
    },
    {
      name: 'cattail_kube_controllers_calico_nodes_deleted_total',
      type: 'counter',
      help: 'Calico Nodes of deleted Kubernetes nodes deleted (etcd mode).',
      samples: [['', g.calicoNodesDeleted]],
    },
  );
  return out;
}

export function formatMetrics(s: KubeControllersMetricsInput): string {
  const out: string[] = [];
  for (const m of metricsOf(s)) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const [labels, value] of m.samples) out.push(`${m.name}${labels} ${value}`);
  }
  return `${out.join('\n')}\n`;
}
