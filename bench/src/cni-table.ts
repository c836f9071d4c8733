#!/usr/bin/env node
/**
 * `node bench/dist/src/cni-table.js RUN.json`: the tables of docs/BENCHMARKS.md's "CNI ADD/DEL
 * latency" section from one `bench:cni` run (the JSON it prints), so the figures there are
 * regenerated, never typed: latency per variant (ms p50 / p99), ratios over the baseline, the
 * floors, and the plugin's own phase medians. With several files: one row per run, the
 * `node -e 0` floor and each variant's sequential ADD p50 (how much the shared machine moved).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ModeResult, Percentiles, Phases } from './cni.js';

interface TargetResult {
  ratiosOver?: string;
  ratios?: Record<string, Record<string, Record<string, number>>>;
  phasesMs?: Record<string, { add: Phases; del: Phases }>;
  [variant: string]: unknown;
}

export interface CniRun {
  command: string;
  params: { pods: number; concurrency: number; rounds: number; baselineRev?: string };
  plugins: Record<string, { available?: false; reason?: string }>;
  floorMs: Record<string, Percentiles>;
  etcd?: TargetResult;
  kdd?: TargetResult;
}

const DATASTORES = [
  ['etcd', 'etcd'],
  ['kdd', 'apiserver'],
] as const;
const VARIANT_NAMES: Record<string, string> = {
  base: '`base` (before)',
  node: '`node` (modules)',
  bundle: '`bundle` (+ code cache)',
  sea: '`sea`',
  daemon: '`daemon` (Node client)',
  shim: '`shim` (Go shim, the product)',
};
const fmt = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : String(Math.round(v)));
const pp = (p: Percentiles | undefined): string => (p ? `${fmt(p.p50)} / ${fmt(p.p99)}` : 'n/a');

function variantsOf(t: TargetResult): string[] {
  return Object.keys(VARIANT_NAMES).filter((v) => typeof t[v] === 'object' && t[v] !== null);
}

export function cniTables(run: CniRun): string {
  const out: string[] = [];
  for (const [key, label] of DATASTORES) {
    const t = run[key];
    if (!t) continue;
    const variants = variantsOf(t);
    const res = (v: string) => t[v] as Record<string, ModeResult | undefined>;
    out.push(`**${label}**, ms p50 / p99 (ratios: p50 over \`${t.ratiosOver ?? '?'}\`)`, '');
    out.push(`| | ${variants.map((v) => VARIANT_NAMES[v]).join(' | ')} |`, `|---|${variants.map(() => '---').join('|')}|`);
    const row = (label: string, get: (v: string) => string) => out.push(`| ${label} | ${variants.map(get).join(' | ')} |`);
    row(`sequential ADD (${run.params.pods})`, (v) => pp(res(v).sequential?.addMs));
    row(`sequential DEL (${run.params.pods})`, (v) => pp(res(v).sequential?.delMs));
    row(`${run.params.concurrency} concurrent ADD`, (v) => pp(res(v).concurrent?.addMs));
    row(`${run.params.concurrency} concurrent DEL`, (v) => pp(res(v).concurrent?.delMs));
    const ratio = (mode: string, k: string) => (v: string) => (v === t.ratiosOver ? '1' : String(t.ratios?.[v]?.[mode]?.[k] ?? 'n/a'));
    row('ratio, sequential ADD p50', ratio('sequential', 'addP50'));
    row('ratio, concurrent ADD p50', ratio('concurrent', 'addP50'));
    const failures = variants.map((v) => (res(v).sequential?.failures ?? 0) + (res(v).concurrent?.failures ?? 0));
    if (failures.some((f) => f > 0)) row('failed calls', (v) => String(failures[variants.indexOf(v)]));
    out.push('');
  }

  out.push('| floor, ms (10 calls) | p50 | p99 |', '|---|---|---|');
  const floorName: Record<string, string> = { ipNetnsExecTrue: '`ip netns exec <node> true`', nodeE0: '`node -e 0`' };
  for (const [k, p] of Object.entries(run.floorMs)) {
    const variant = k.endsWith('Version') ? k.slice(0, -'Version'.length) : undefined;
    out.push(`| ${floorName[k] ?? (variant ? `${VARIANT_NAMES[variant] ?? variant} VERSION` : k)} | ${fmt(p.p50)} | ${fmt(p.p99)} |`);
  }
  out.push('');

  const phaseOrder = ['main', 'config', 'datastore', 'pod', 'endpoint', 'ipam', 'wiring', 'closed', 'total', 'calls'];
  const phaseName: Record<string, string> = {
    main: 'start-up to main (Node, module loading)',
    config: 'env + config parsed',
    datastore: 'datastore backend loaded and client made',
    pod: 'pod read (apiserver only)',
    endpoint: 'endpoint: written (ADD) / read and deleted, the first request connects (DEL)',
    ipam: 'IPAM (ADD: the first request connects; the veth pair is made meanwhile)',
    wiring: 'wiring (`ip`, `nsenter`)',
    closed: 'datastore closed',
    total: '**total in the plugin**',
    calls: 'datastore requests',
  };
  for (const [key, label] of DATASTORES) {
    const phases = run[key]?.phasesMs;
    if (!phases || Object.keys(phases).length === 0) continue;
    const variants = Object.keys(phases);
    out.push(
      `**Phases on ${label}** (medians of the plugin's \`CATTAIL_CNI_TIMING\` marks, sequential, ms; ADD / DEL)`,
      '',
      `| phase | ${variants.map((v) => VARIANT_NAMES[v] ?? v).join(' | ')} |`,
      `|---|${variants.map(() => '---').join('|')}|`,
    );
    for (const ph of phaseOrder) {
      const cells = variants.map((v) => {
        const a = phases[v].add[ph];
        const d = phases[v].del[ph];
        return a === undefined && d === undefined ? '' : `${a ?? '–'} / ${d ?? '–'}`;
      });
      if (cells.every((c) => c === '')) continue;
      out.push(`| ${phaseName[ph] ?? ph} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  const missing = Object.entries(run.plugins).filter(([, p]) => p.available === false);
  for (const [v, p] of missing) out.push(`Variant \`${v}\` not run: ${p.reason ?? 'unavailable'}.`, '');
  return out.join('\n');
}

/** Several runs of the same command side by side: the floor and sequential ADD p50 of each variant. */
export function runsTable(runs: readonly CniRun[]): string {
  const variants = Object.keys(VARIANT_NAMES).filter((v) => runs.some((r) => DATASTORES.some(([k]) => typeof r[k]?.[v] === 'object')));
  const out = [
    `| run | \`node -e 0\` p50 | ${DATASTORES.flatMap(([, label]) => variants.map((v) => `${label} ${VARIANT_NAMES[v]}`)).join(' | ')} |`,
    `|---|---|${DATASTORES.flatMap(() => variants.map(() => '---')).join('|')}|`,
  ];
  runs.forEach((r, i) => {
    const cells = DATASTORES.flatMap(([k]) =>
      variants.map((v) => fmt((r[k]?.[v] as Record<string, ModeResult | undefined> | undefined)?.sequential?.addMs.p50)),
    );
    out.push(`| ${i + 1} | ${fmt(r.floorMs.nodeE0?.p50)} | ${cells.join(' | ')} |`);
  });
  return `${out.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: cni-table.js RUN.json (the tables of one run) | cni-table.js RUN.json RUN.json... (sequential ADD p50 of each run)\n');
    process.exitCode = 2;
  } else {
    const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CniRun);
    process.stdout.write(runs.length === 1 ? cniTables(runs[0]) : runsTable(runs));
  }
}
