#!/usr/bin/env node
/**
 * `node bench/dist/src/profile-summary.js FILE.cpuprofile [--top 25] [--json]`: where a V8 CPU
 * profile (node --cpu-prof) spent its time: self time per function, and per package/file
 * group, so docs/BENCHMARKS.md can quote profile evidence as text.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  top: Array<{ fn: string; where: string; selfMs: number; pct: number }>;
  groups: Array<{ group: string; selfMs: number; pct: number }>;
}

export function summarizeProfile(p: Profile, top = 25): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const fns = new Map<string, { fn: string; where: string; selfMs: number }>();
  const groups = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    total += ms;
    if (fn === '(idle)') {
      idle += ms;
      continue;
    }
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const cur = fns.get(key) ?? { fn, where, selfMs: 0 };
    cur.selfMs += ms;
    fns.set(key, cur);
    const g = group(fn, url);
    groups.set(g, (groups.get(g) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms: number): number => Math.round((1000 * ms) / Math.max(busy, 1e-9)) / 10;
  return {
    totalMs: Math.round(total),
    idleMs: Math.round(idle),
    top: [...fns.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, selfMs: Math.round(f.selfMs), pct: pct(f.selfMs) })),
    groups: [...groups].sort((a, b) => b[1] - a[1]).map(([g, ms]) => ({ group: g, selfMs: Math.round(ms), pct: pct(ms) })),
  };
}

function shortUrl(url: string): string {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const m = /\/work\/main\/(.*)$/.exec(u);
  return m ? m[1] : u;
}

function group(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)') return '(program: native, not attributed)';
  if (!url) return `native: ${fn}`;
  const u = url.replace(/^file:\/\//, '');
  const nm = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(u);
  if (nm && !nm[1].startsWith('@cattail')) return `npm: ${nm[1]}`;
  const ours = /\/work\/main\/([^/]+)\/(?:dist\/)?(?:src\/)?([^/]+)/.exec(u);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (u.startsWith('node:')) return `node: ${u.slice(5).split('/')[0]}`;
  return u;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) {
    process.stderr.write('usage: profile-summary.js FILE.cpuprofile [--top 25] [--json]\n');
    process.exitCode = 2;
    return;
  }
  const s = summarizeProfile(JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile, Number(values.top ?? 25));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  process.stdout.write(`total ${s.totalMs} ms, idle ${s.idleMs} ms, busy ${s.totalMs - s.idleMs} ms\n\nby group (self time, % of busy):\n`);
  for (const g of s.groups.slice(0, 15)) process.stdout.write(`  ${String(g.pct).padStart(5)}%  ${String(g.selfMs).padStart(7)} ms  ${g.group}\n`);
  process.stdout.write('\ntop functions (self time):\n');
  for (const f of s.top) process.stdout.write(`  ${String(f.pct).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.fn}  ${f.where}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) main();
