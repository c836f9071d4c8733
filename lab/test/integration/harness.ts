// Shared by the lab's end-to-end tests: a lab of its own per test file (random name, so
// namespaces `ctlab-<random>-…` never collide with another file's), torn down in t.after even
// when the test fails, and helpers that poll real state with a bound and say what they last saw.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Resource } from '@cattail/api';
import { Lab, applyResource, formatProbeTable, formatStatus, type LabMode, type PodRecord, type ProbeResult } from '../../src/index.js';
import { logTail } from '../../src/processes.js';

export async function startLab(t: TestContext, opts: { nodes: number; podsPerNode: number; mode: LabMode }): Promise<Lab> {
  const id = `t${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `ctlab-${id}-`));
  const lab = new Lab({ id, dir });
  t.after(async () => {
    await lab.down();
  });
  await diagnose(lab, () => lab.up(opts));
  return lab;
}

/** Runs `fn`; on failure, adds the lab's status and the tails of its logs to the error. */
export async function diagnose<T>(lab: Lab, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    let extra = '';
    try {
      extra += `\n--- lab status ---\n${formatStatus(await lab.status())}`;
    } catch (e) {
      extra += `\n(no status: ${(e as Error).message})`;
    }
    try {
      const logs = lab.logsDir();
      for (const f of readdirSync(logs)) {
        if (f.startsWith('felix') || f.startsWith('confd') || f.startsWith('bird') || f.startsWith('relay')) {
          extra += `\n--- ${f} (tail) ---\n${logTail(join(logs, f), 700)}`;
        }
      }
    } catch {
      // no logs yet
    }
    if (err instanceof Error) {
      err.message += extra;
      throw err;
    }
    throw new Error(`${String(err)}${extra}`);
  }
}

export const V3 = 'projectcalico.org/v3';

export async function apply(lab: Lab, doc: Record<string, unknown>): Promise<void> {
  await applyResource(lab.datastore(), doc as unknown as Resource);
}

export function pods(lab: Lab): PodRecord[] {
  return lab.state!.pods;
}

export const key = (p: Pick<PodRecord, 'namespace' | 'name'>) => `${p.namespace}/${p.name}`;

/** The pairs whose reachability differs from `expected(from, to)`; empty when the matrix is as expected. */
export function mismatches(results: readonly ProbeResult[], expected: (from: string, to: string) => boolean): string[] {
  return results.filter((r) => r.reachable !== expected(r.from, r.to)).map((r) => `${r.from} → ${r.to}: ${r.reachable ? 'reachable' : 'blocked'}, expected ${expected(r.from, r.to) ? 'reachable' : 'blocked'}`);
}

/**
 * Probes until the whole matrix matches `expected` (routes and policy settle over a few hundred
 * ms), or `ms` pass; on timeout fails with the pairs that were still wrong and the table.
 */
export async function matrixBecomes(lab: Lab, expected: (from: string, to: string) => boolean, what: string, ms = 20_000, opts: { from?: string[]; to?: string[] } = {}): Promise<ProbeResult[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const results = await lab.probe({ concurrency: 10, ...opts });
    const wrong = mismatches(results, expected);
    if (wrong.length === 0) return results;
    if (Date.now() > deadline) assert.fail(`${what}: after ${ms} ms still ${wrong.length} wrong pairs:\n  ${wrong.join('\n  ')}\n${formatProbeTable(results)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Pings `from` → `to` until the answer is `reachable`, from `since` (ms timestamp of the write);
 * returns how long after `since` the first ping that showed it was sent.
 */
export async function pingBecomes(lab: Lab, from: PodRecord, to: PodRecord, reachable: boolean, since: number, ms: number): Promise<number> {
  const { ping } = await import('../../src/probe.js');
  for (;;) {
    const sent = Date.now();
    if ((await ping(from.netns, to.ip!, 1)) === reachable) return sent - since;
    if (Date.now() - since > ms) assert.fail(`${key(from)} → ${key(to)} (${to.ip}) still ${reachable ? 'blocked' : 'reachable'} ${ms} ms after the write`);
  }
}

export function pod(lab: Lab, name: string): PodRecord {
  const p = pods(lab).find((x) => x.name === name);
  assert.ok(p, `no pod ${name} in the lab (have ${pods(lab).map(key).join(', ')})`);
  assert.ok(p.ip, `pod ${name} has no address`);
  return p;
}
