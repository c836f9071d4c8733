/**
 * The chart: one self-contained HTML page (inline SVG, no scripts, no network) drawn from a
 * run's summary.json: delta latency percentiles per second, and connected / in-sync clients per
 * second (with Typha's own count and its lagging clients when the runner sampled them), under
 * the run's parameters and threshold results.
 *
 *   node loadtest/dist/src/chart.js loadtest/results/<run>/summary.json > chart.html
 * (the runner writes chart.html beside summary.json itself).
 */
import { readFileSync } from 'node:fs';
import type { LoadtestResult } from './report.js';
import type { TimelinePoint } from './timeline.js';

interface Series {
  name: string;
  color: string;
  values: Array<number | undefined>;
}

const W = 900;
const H = 260;
const PAD = { l: 60, r: 20, t: 20, b: 34 };

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** One line chart as an SVG element. */
export function lineChart(title: string, yLabel: string, ts: number[], series: Series[]): string {
  const tMax = Math.max(1, ...ts);
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)))));
  const x = (t: number): number => PAD.l + (t / tMax) * (W - PAD.l - PAD.r);
  const y = (v: number): number => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#555">${Math.round(v * 100) / 100}</text>`);
  }
  const tStep = Math.max(1, niceMax(tMax / 8));
  for (let t = 0; t <= tMax; t += tStep) {
    parts.push(`<text x="${x(t)}" y="${H - PAD.b + 16}" text-anchor="middle" font-size="11" fill="#555">${t}</text>`);
  }
  parts.push(`<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 4}" text-anchor="middle" font-size="11" fill="#333">seconds since the run started</text>`);
  parts.push(
    `<text x="14" y="${(PAD.t + H - PAD.b) / 2}" transform="rotate(-90 14 ${(PAD.t + H - PAD.b) / 2})" text-anchor="middle" font-size="11" fill="#333">${esc(yLabel)}</text>`,
  );
  series.forEach((s, si) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(ts[i]).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    parts.push(`<rect x="${PAD.l + 10 + si * 150}" y="${PAD.t - 14}" width="12" height="4" fill="${s.color}"/>`);
    parts.push(`<text x="${PAD.l + 26 + si * 150}" y="${PAD.t - 9}" font-size="11" fill="#333">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `<h2>${esc(title)}</h2>\n${parts.join('')}`;
}

function extra(points: TimelinePoint[], name: string): Array<number | undefined> {
  let last: number | undefined;
  return points.map((p) => {
    if (p.extra[name] !== undefined) last = p.extra[name];
    return last;
  });
}

export function renderChart(r: LoadtestResult): string {
  const pts = r.timeline;
  const ts = pts.map((p) => p.t);
  const lat = lineChart('Delta latency, write → receipt (per second)', 'ms', ts, [
    { name: 'p50', color: '#1f77b4', values: pts.map((p) => (p.latN > 0 ? p.p50 : undefined)) },
    { name: 'p90', color: '#ff7f0e', values: pts.map((p) => (p.latN > 0 ? p.p90 : undefined)) },
    { name: 'p99', color: '#d62728', values: pts.map((p) => (p.latN > 0 ? p.p99 : undefined)) },
  ]);
  const clientSeries: Series[] = [
    { name: 'k6: connected', color: '#2ca02c', values: pts.map((p) => p.open) },
    { name: 'k6: in sync', color: '#1f77b4', values: pts.map((p) => p.live) },
  ];
  if (pts.some((p) => p.extra.typhaConnections !== undefined))
    clientSeries.push({ name: 'Typha: connections', color: '#9467bd', values: extra(pts, 'typhaConnections') });
  if (pts.some((p) => p.extra.typhaLagging !== undefined)) clientSeries.push({ name: 'Typha: lagging', color: '#d62728', values: extra(pts, 'typhaLagging') });
  const clients = lineChart('Clients (per second)', 'clients', ts, clientSeries);
  const traffic = lineChart('Received by the k6 clients (per second)', 'MB', ts, [{ name: 'MB/s', color: '#8c564b', values: pts.map((p) => p.mbIn) }]);
  const thresholds = r.thresholds
    .map((t) => `<tr><td>${t.ok ? '✓' : '<b style="color:#c00">✗</b>'}</td><td><code>${esc(t.metric)}</code></td><td><code>${esc(t.expr)}</code></td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cattail loadtest: ${esc(r.scenario)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:940px;color:#222}td{padding:2px 8px}code{font-size:12px}h2{font-size:15px;margin:22px 0 4px}</style>
</head><body>
<h1>${esc(r.scenario)}: ${r.passed ? 'passed' : '<span style="color:#c00">failed</span>'}</h1>
<p><code>${esc(r.command)}</code><br>${esc(r.startedAt)} · ${r.params.vus} VUs × ${r.params.socketsPerVu} sockets · R = ${r.params.resources} · ${esc(String(r.params.syncer))} syncer, msgpack ·
${r.machine.nproc} CPU ${esc(r.machine.cpu)} · k6 peak RSS ${r.k6.peakRssMB} MB</p>
${lat}
${clients}
${traffic}
<h2>Thresholds</h2>
<table>${thresholds}</table>
${r.errors.length ? `<h2>Errors</h2><pre>${esc(r.errors.join('\n\n'))}</pre>` : ''}
</body></html>
`;
}

// CLI: node chart.js summary.json > chart.html
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node loadtest/dist/src/chart.js SUMMARY.json > chart.html\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(renderChart(JSON.parse(readFileSync(file, 'utf8')) as LoadtestResult));
  }
}
