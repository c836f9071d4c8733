/**
 * Felix's Prometheus metrics in the text exposition format, computed from the daemon's status
 * on each scrape (a few gauges and counters need no metrics library). Names follow Calico
 * Felix where one exists (`felix_resync_state`-like `felix_in_sync`, `felix_int_dataplane_*`).
 */
import type { FelixStatus } from '../daemon.js';

interface Metric {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  value: number;
}

function metricsOf(s: FelixStatus): Metric[] {
  return [
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
  ];
}

export function formatMetrics(s: FelixStatus): string {
  let out = '';
  for (const m of metricsOf(s)) out += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name} ${m.value}\n`;
  return out;
}
