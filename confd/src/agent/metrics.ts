/**
 * confd's Prometheus metrics, in the text exposition format, computed from the agent's status on
 * each scrape. A handful of counters and gauges do not need a metrics library: the agent keeps
 * plain numbers, this file only names them. Names follow Felix's style (`felix_*` there,
 * `confd_*` here); `_total` counters and `_seconds` units as Prometheus asks.
 */
import type { ConfdStatus, FailureStage } from './confd-agent.js';

interface Metric {
  name: string;
  type: 'counter' | 'gauge' | 'summary';
  help: string;
  samples: ReadonlyArray<readonly [labels: string, value: number]>;
}

const STAGES: readonly FailureStage[] = ['render', 'check', 'write', 'reload'];

function metricsOf(s: ConfdStatus): Metric[] {
  const c = s.counters;
  const at = (iso: string | undefined) => (iso === undefined ? 0 : Date.parse(iso) / 1000);
  return [
    { name: 'confd_in_sync', type: 'gauge', help: '1 while the bgp syncer is in sync with Typha.', samples: [['', s.sync.status === 'in-sync' ? 1 : 0]] },
    { name: 'confd_datastore_revision', type: 'gauge', help: 'Datastore revision of the last update received.', samples: [['', s.sync.revision]] },
    { name: 'confd_renders_total', type: 'counter', help: 'BIRD configurations rendered.', samples: [['', c.renders]] },
    { name: 'confd_config_unchanged_total', type: 'counter', help: 'Renders identical to the live file: no write, no reload.', samples: [['', c.unchanged]] },
    { name: 'confd_config_installs_total', type: 'counter', help: 'Checked configurations renamed over the live file.', samples: [['', c.installs]] },
    { name: 'confd_bird_reloads_total', type: 'counter', help: 'Successful birdc configure calls.', samples: [['', c.reloads]] },
    {
      name: 'confd_config_failures_total',
      type: 'counter',
      help: 'Failed attempts by stage (render, check = bird -p refused, write, reload); BIRD kept its last good configuration.',
      samples: STAGES.map((st) => [`{stage="${st}"}`, c.failures[st]] as const),
    },
    {
      name: 'confd_config_ok',
      type: 'gauge',
      help: '1 when the last attempt succeeded (the live configuration matches the datastore).',
      samples: [['', s.lastError ? 0 : 1]],
    },
    {
      name: 'confd_reload_pending',
      type: 'gauge',
      help: '1 while the live file is newer than what BIRD accepted.',
      samples: [['', s.config.reloadPending ? 1 : 0]],
    },
    { name: 'confd_bgp_sessions', type: 'gauge', help: 'BGP sessions in the installed configuration.', samples: [['', s.config.sessions]] },
    {
      name: 'confd_last_reload_timestamp_seconds',
      type: 'gauge',
      help: 'When BIRD last accepted a configuration (0: never).',
      samples: [['', at(s.config.lastReloadAt)]],
    },
    {
      name: 'confd_apply_seconds',
      type: 'summary',
      help: 'Time from render to reload, per reconcile.',
      samples: [
        ['_sum', c.applySecondsSum],
        ['_count', c.applyCount],
      ],
    },
  ];
}

export function formatMetrics(s: ConfdStatus): string {
  const out: string[] = [];
  for (const m of metricsOf(s)) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const [labels, value] of m.samples) {
      out.push(`${m.name}${labels} ${value}`); // labels is `{…}`, `_sum`/`_count`, or empty
    }
  }
  return `${out.join('\n')}\n`;
}
