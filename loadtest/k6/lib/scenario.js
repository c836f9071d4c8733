/**
 * What every scenario script shares: the executor (each VU runs one long iteration holding its
 * sockets), the summary trend stats, and handleSummary (k6's summary JSON to SUMMARY_PATH for
 * the runner, and a short threshold list on stdout; no remote jslib, no network).
 */
import exec from 'k6/execution';
import { config } from './config.js';
import { runVu } from './engine.js';

export function scenarioOptions(thresholds) {
  return {
    scenarios: {
      felix: {
        executor: 'per-vu-iterations',
        vus: config.vus,
        iterations: 1,
        maxDuration: `${Math.ceil(config.maxS + 60)}s`,
        gracefulStop: '30s',
      },
    },
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
    // Control answers are read; nothing else is requested over HTTP.
    discardResponseBodies: false,
    noConnectionReuse: false,
  };
}

export function vuMain(behaviour) {
  return runVu(exec.vu.idInTest, behaviour);
}

export function summaryOutputs(data) {
  const lines = [];
  for (const [name, metric] of Object.entries(data.metrics)) {
    if (!metric.thresholds) continue;
    for (const [expr, res] of Object.entries(metric.thresholds)) {
      lines.push(`${res.ok ? 'ok  ' : 'FAIL'} ${name} ${expr}  (${describe(metric)})`);
    }
  }
  lines.sort();
  return { [config.summaryPath]: JSON.stringify(data), stdout: `thresholds:\n  ${lines.join('\n  ')}\n` };
}

function describe(metric) {
  const v = metric.values;
  if (metric.type === 'rate') return `rate=${round(v.rate)} of ${v.passes + v.fails}`;
  if (metric.type === 'counter') return `count=${v.count}`;
  if (metric.type === 'trend') return `p50=${round(v.med)} p95=${round(v['p(95)'])} p99=${round(v['p(99)'])} max=${round(v.max)} n=${v.count}`;
  return JSON.stringify(v);
}

function round(x) {
  return typeof x === 'number' ? Math.round(x * 1000) / 1000 : x;
}
