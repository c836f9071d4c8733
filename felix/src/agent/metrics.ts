/**
 * Felix's Prometheus metrics in the text exposition format, computed from the daemon's status
 * on each scrape (a few gauges, counters and one summary need no metrics library).
 *
 * Calico's `felix_*` names are used where the meaning is the same; each HELP line says what is
 * counted here, and where it differs from Calico's. Calico's `felix_int_dataplane_apply_time_seconds`
 * is a summary with quantiles; ours has `_sum` and `_count` only (a rate of the two gives the mean
 * apply time). Our own names (`felix_in_sync`, `felix_typha_connected`, `*_total` counters) stay.
 */
import type { FelixStatus } from '../daemon.js';

interface Metric {
  name: string;
  type: 'counter' | 'gauge' | 'summary';
  help: string;
  /** One sample, or (for a summary) its `_sum` and `_count`. */
  value: number | { sum: number; count: number };
}

function metricsOf(s: FelixStatus): Metric[] {
  const m: Metric[] = [
    { name: 'felix_in_sync', type: 'gauge', help: '1 once the calculation graph has had a complete snapshot.', value: s.inSync ? 1 : 0 },
    { name: 'felix_typha_connected', type: 'gauge', help: '1 while connected to Typha.', value: s.typha.connected ? 1 : 0 },
    { name: 'felix_datastore_revision', type: 'gauge', help: 'Datastore revision of the last update received.', value: s.typha.revision },
    { name: 'felix_calc_updates_total', type: 'counter', help: 'Syncer updates fed to the calculation graph.', value: s.updates },
    { name: 'felix_int_dataplane_messages_total', type: 'counter', help: 'Dataplane messages the calculation graph sent.', value: s.messages },
    { name: 'felix_int_dataplane_batches_total', type: 'counter', help: 'Message batches the calculation graph sent.', value: s.batches },
    {
      name: 'felix_int_dataplane_failures_total',
      type: 'counter',
      help: 'Dataplane errors (commands that failed, endpoints not ready).',
      value: s.dataplaneErrors,
    },
    // Calico's names.
    {
      name: 'felix_int_dataplane_failures',
      type: 'counter',
      help: 'Dataplane errors that will be retried: each failed step of an apply (a command, reading the kernel, the MTU file).',
      value: s.dataplaneErrors,
    },
    {
      name: 'felix_resyncs_started',
      type: 'counter',
      help: 'Times Felix started resyncing with the datastore (a snapshot from Typha, at start and after each reconnect).',
      value: s.resyncsStarted,
    },
    { name: 'felix_calc_graph_output_events', type: 'counter', help: 'Dataplane messages emitted by the calculation graph.', value: s.messages },
  ];
  const d = s.dataplane;
  if (d) {
    m.push(
      {
        name: 'felix_int_dataplane_apply_time_seconds',
        type: 'summary',
        help: 'Time to apply a dataplane update (read the kernel, program the difference); sum and count, no quantiles.',
        value: { sum: d.applySeconds, count: d.applies },
      },
      { name: 'felix_active_local_endpoints', type: 'gauge', help: 'Active endpoints on this host (workload + host).', value: d.localEndpoints },
      {
        name: 'felix_active_local_policies',
        type: 'gauge',
        help: 'Active policies on this host (those that apply to a local endpoint).',
        value: d.localPolicies,
      },
      { name: 'felix_ipsets_calico', type: 'gauge', help: 'Active Calico IP sets (each counted once, however many families it spans).', value: d.ipSets },
      { name: 'felix_cluster_num_hosts', type: 'gauge', help: 'Calico hosts (nodes) in the cluster.', value: d.hosts },
    );
  }
  const e = s.endpointStatus;
  if (e) {
    m.push(
      { name: 'felix_endpoint_status_writes_total', type: 'counter', help: 'Endpoint statuses written to the datastore.', value: e.writes },
      { name: 'felix_endpoint_status_deletes_total', type: 'counter', help: 'Endpoint statuses deleted from the datastore.', value: e.deletes },
      {
        name: 'felix_endpoint_status_failures_total',
        type: 'counter',
        help: 'Endpoint status writes or resync lists that failed (retried).',
        value: e.failures,
      },
      { name: 'felix_endpoint_status_pending', type: 'gauge', help: 'Endpoint statuses waiting to be written.', value: e.pending },
    );
  }
  return m;
}

export function formatMetrics(s: FelixStatus): string {
  let out = '';
  for (const m of metricsOf(s)) {
    out += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n`;
    out += typeof m.value === 'number' ? `${m.name} ${m.value}\n` : `${m.name}_sum ${m.value.sum}\n${m.name}_count ${m.value.count}\n`;
  }
  return out;
}
