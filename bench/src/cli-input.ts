#!/usr/bin/env node
/**
 * `node bench/dist/src/cli-input.js [--runs 5] [--baseline-bin PATH] [--apply-runs 3] [--apply-timeout 60] [--no-apply]`
 *
 * What `cattail apply -f` costs as its input grows, and what the input limits
 * (cli/src/input-limits.ts) bound it to. Two parts:
 *
 *  1. parse, in-process, CPU time, best of --runs: the CLI's loader (`loadResources`, validate mode, real
 *     limits) on one IPPool with N label keys, and, measured in the same run on the same text,
 *     the parse the CLI did before the limits (`parseAllDocuments` with the library's
 *     `uniqueKeys` check, `toJS`, `checkResource`) up to 40,000 keys (200,000 would take
 *     minutes). Then the largest input of several shapes the limits allow (just under 3 MiB):
 *     the longest one file can take.
 *  2. apply, end to end (wall time): `node BIN apply -f FILE` as a child process against a private etcd
 *     (`startEtcd()`), for 10,000 / 40,000 / 200,000 label keys, with `--baseline-bin` too when
 *     given (e.g. a build of the commit before the limits); best of --apply-runs, each stopped
 *     after --apply-timeout seconds (SIGKILL, by pid). The CLI's start-up (about 1 s here) is
 *     in every figure.
 *
 * Prints one JSON object on stdout and a table on stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkResource } from '@cattail/api';
import { INPUT_LIMITS, loadResources } from '@cattail/cli';
import { startEtcd } from '@cattail/datastore/testing';
import { parseAllDocuments } from 'yaml';
import { intArg } from './args.js';
import { machineInfo } from './machine.js';

const BIN = fileURLToPath(new URL('../../../cli/bin/cattail.js', import.meta.url));
const BASELINE_MAX_KEYS = 40_000;

interface ParseRow {
  shape: string;
  keys: number | null;
  bytes: number;
  /** CPU ms, best of --runs. */
  ms: number;
  /** CPU ms per MB of input */
  msPerMB: number;
  /** `ok (N resources)` or the first problem, shortened. */
  outcome: string;
  baselineMs: number | null;
}

interface ApplyRow {
  bin: 'new' | 'baseline';
  keys: number;
  bytes: number;
  /** Wall ms from spawn to exit. */
  ms: number;
  timedOut: boolean;
  code: number | null;
  /** The first line the command printed (stdout, else stderr), shortened. */
  said: string;
}

function labelsDoc(keys: number, name = 'bench'): string {
  const lines = ['apiVersion: projectcalico.org/v3', 'kind: IPPool', 'metadata:', `  name: ${name}`, '  labels:'];
  for (let i = 0; i < keys; i++) lines.push(`    k${i}: v`);
  lines.push('spec:', '  cidr: 10.1.0.0/16', '');
  return lines.join('\n');
}

/** Repeats `part(i)` while the text stays within `bytes`. */
function fill(bytes: number, head: string, part: (i: number) => string, tail: string): string {
  const parts = [head];
  let size = head.length + tail.length;
  for (let i = 0; ; i++) {
    const p = part(i);
    if (size + p.length > bytes) break;
    parts.push(p);
    size += p.length;
  }
  parts.push(tail);
  return parts.join('');
}

/** The largest input of each shape the limits allow: what bounds the time of one file. */
function largestInputs(): { shape: string; text: string }[] {
  const max = INPUT_LIMITS.sourceBytes;
  const pool = (i: number): string =>
    `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-${i}\n  labels:\n    team: network\n    env: production\n    tier: t${i % 7}\nspec:\n  cidr: 10.${(i >> 8) & 255}.${i & 255}.0/24\n  ipipMode: Never\n  natOutgoing: true\n`;
  const jsonPool = (i: number): string =>
    JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: `pool-${i}`, labels: { team: 'network', env: 'production', tier: `t${i % 7}` } },
      spec: { cidr: `10.${(i >> 8) & 255}.${i & 255}.0/24`, ipipMode: 'Never', natOutgoing: true },
    });
  const docs = (limit: number, f: (i: number) => string, sep: string): string[] => {
    const out: string[] = [];
    let size = 0;
    for (let i = 0; i < limit; i++) {
      const d = f(i);
      if (size + d.length + sep.length > max - 64) break;
      out.push(d);
      size += d.length + sep.length;
    }
    return out;
  };
  const head = 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: big\nspec:\n  nets:';
  return [
    { shape: 'YAML documents (IPPool)', text: docs(INPUT_LIMITS.documents, pool, '---\n').join('---\n') },
    { shape: 'JSON List (IPPool items)', text: `{"apiVersion":"v1","kind":"List","items":[${docs(INPUT_LIMITS.documents, jsonPool, ',').join(',')}]}` },
    { shape: 'block sequence of CIDRs', text: fill(max, `${head}\n`, (i) => `    - 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32\n`, '') },
    { shape: 'flow sequence of 1-char items', text: fill(max, `${head} [`, () => '1,', '1]\n') },
  ];
}

/**
 * Best of `runs` CPU times of `fn` (this process, user + system), in ms: on a machine shared with
 * other work, wall time measures the neighbours as much as the parser.
 */
async function best(runs: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    min = Math.min(min, (used.user + used.system) / 1000);
  }
  return min;
}

async function parseRow(shape: string, keys: number | null, text: string, runs: number, withBaseline: boolean): Promise<ParseRow> {
  let outcome = '';
  const ms = await best(runs, async () => {
    const r = await loadResources([{ name: 'bench.yaml', text }], { mode: 'validate' });
    outcome = r.problems.length ? short(r.problems[0]) : `ok (${r.resources.length} resources)`;
  });
  let baselineMs: number | null = null;
  if (withBaseline) {
    baselineMs = await best(runs, async () => {
      for (const doc of parseAllDocuments(text, { uniqueKeys: true })) checkResource(doc.toJS({ maxAliasCount: 1000 }));
    });
  }
  const bytes = Buffer.byteLength(text);
  return { shape, keys, bytes, ms: round(ms), msPerMB: round(ms / (bytes / 1e6)), outcome, baselineMs: baselineMs === null ? null : round(baselineMs) };
}

function runApply(bin: string, file: string, cwd: string, endpoints: string, timeoutMs: number): Promise<Omit<ApplyRow, 'bin' | 'keys' | 'bytes'>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, 'apply', '-f', file], {
      cwd,
      env: { PATH: process.env.PATH, ETCD_ENDPOINTS: endpoints },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: round(performance.now() - started), timedOut, code, said: short(out.split('\n')[0] ?? '') });
    });
  });
}

function short(line: string): string {
  return line.length > 110 ? `${line.slice(0, 107)}...` : line;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      'baseline-bin': { type: 'string' },
      'apply-timeout': { type: 'string' },
      'apply-runs': { type: 'string' },
      'no-apply': { type: 'boolean', default: false },
    },
  });
  const runs = intArg('runs', values.runs, 5, 1, 50);
  const timeoutMs = intArg('apply-timeout', values['apply-timeout'], 60, 1, 3600) * 1000;
  const applyRuns = intArg('apply-runs', values['apply-runs'], 3, 1, 20);

  const parse: ParseRow[] = [];
  await loadResources([{ name: 'warm.yaml', text: labelsDoc(10_000) }], { mode: 'validate' }); // JIT warm-up
  for (const keys of [1_250, 2_500, 5_000, 10_000, 40_000, 200_000]) {
    parse.push(await parseRow('IPPool with N label keys', keys, labelsDoc(keys), runs, keys <= BASELINE_MAX_KEYS));
  }
  for (const { shape, text } of largestInputs()) parse.push(await parseRow(shape, null, text, 1, false));

  const apply: ApplyRow[] = [];
  if (!values['no-apply']) {
    const etcd = await startEtcd();
    const dir = await mkdtemp(join(tmpdir(), 'cattail-bench-cli-'));
    try {
      const bins: [ApplyRow['bin'], string][] = [['new', BIN]];
      if (values['baseline-bin']) bins.push(['baseline', values['baseline-bin']]);
      for (const keys of [10_000, 40_000, 200_000]) {
        for (const [which, bin] of bins) {
          // Best of --apply-runs (a new resource each time); a run that times out is the answer.
          let row: ApplyRow | undefined;
          for (let i = 0; i < applyRuns && !row?.timedOut; i++) {
            const file = `labels-${which}-${keys}-${i}.yaml`;
            const text = labelsDoc(keys, `bench-${which}-${keys}-${i}`);
            await writeFile(join(dir, file), text);
            const r = await runApply(bin, file, dir, etcd.endpoints.join(','), timeoutMs);
            if (!row || r.timedOut || r.ms < row.ms) row = { bin: which, keys, bytes: Buffer.byteLength(text), ...r };
          }
          apply.push(row!);
        }
      }
    } finally {
      await etcd.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }

  const result = { bench: 'cli-input', machine: machineInfo(), limits: INPUT_LIMITS, runs, applyRuns, parse, apply };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(table(parse, apply));
}

/** The figures as Markdown tables, to paste into docs/BENCHMARKS.md. */
function table(parse: ParseRow[], apply: ApplyRow[]): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const lines = ['| input | bytes | CPU ms | ms per MB | before: CPU ms | outcome |', '|---|---:|---:|---:|---:|---|'];
  for (const r of parse) {
    const input = r.keys === null ? r.shape : `${r.shape.replace('N', n(r.keys))}`;
    const before = r.baselineMs === null ? '' : n(r.baselineMs);
    lines.push(`| ${input} | ${n(r.bytes)} | ${n(r.ms)} | ${n(r.msPerMB)} | ${before} | ${r.outcome.replaceAll('|', '\\|')} |`);
  }
  if (apply.length) {
    lines.push('', '| `cattail apply -f` | label keys | bytes | wall ms | exit | first line |', '|---|---:|---:|---:|---:|---|');
    for (const r of apply) {
      const ms = r.timedOut ? `> ${n(r.ms)} (killed)` : n(r.ms);
      lines.push(`| ${r.bin} | ${n(r.keys)} | ${n(r.bytes)} | ${ms} | ${r.code ?? ''} | ${r.said} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

main().catch((err: unknown) => {
  process.stderr.write(`cli-input: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
