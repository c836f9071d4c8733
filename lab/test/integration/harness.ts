// Shared by the lab's end-to-end tests: a lab of its own per test file (random name, so
// namespaces `ctlab-<random>-…` never collide with another file's), torn down in t.after even
// when the test fails, and helpers that poll real state with a bound and say what they last saw.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Resource } from '@cattail/api';
import { Lab, applyResource, formatProbeTable, formatStatus, run, type LabMode, type PodRecord, type ProbeResult } from '../../src/index.js';
import type { LabDatastore } from '../../src/state.js';
import { logTail } from '../../src/processes.js';

const failed = new WeakSet<Lab>();

/**
 * One lab at a time across the e2e files: node:test runs up to three files at once, and three
 * clusters of a dozen Node processes each on two cores make every timing assertion (a policy
 * within 2 s) a measure of the machine, not of Cattail. The slot is a directory made with
 * mkdir (atomic) holding the owner's pid; a slot whose owner is gone is taken over.
 */
const SLOT = join(tmpdir(), 'cattail-lab-e2e.slot');

export async function takeSlot(ms: number): Promise<() => void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      mkdirSync(SLOT);
      writeFileSync(join(SLOT, 'pid'), String(process.pid));
      return () => rmSync(SLOT, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(join(SLOT, 'pid'), 'utf8'));
    } catch {
      // being written or removed right now
    }
    if (owner > 0 && !existsSync(`/proc/${owner}`)) rmSync(SLOT, { recursive: true, force: true });
    if (Date.now() > deadline) assert.fail(`another lab e2e test (pid ${owner}) held ${SLOT} for ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A lab of its own for one test, removed in t.after. When the test failed, the state dir (logs,
 * BIRD configs, state.json, the nodes' ruleset and routes) is kept for a look; its path is in
 * the error.
 */
export async function startLab(t: TestContext, opts: { nodes: number; podsPerNode: number; mode: LabMode; datastore?: LabDatastore }): Promise<Lab> {
  const release = await takeSlot(240_000);
  const id = `t${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `ctlab-${id}-`));
  const lab = new Lab({ id, dir });
  t.after(async () => {
    try {
      await lab.down({ keepDir: failed.has(lab) });
    } finally {
      release();
    }
  });
  await diagnose(lab, () => lab.up(opts));
  return lab;
}

/** Runs `fn`; on failure, adds the lab's status and the tails of its logs to the error. */
export async function diagnose<T>(lab: Lab, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    failed.add(lab);
    let extra = `\n(lab state dir kept: ${lab.dir})`;
    try {
      extra += `\n--- lab status ---\n${formatStatus(await lab.status())}`;
    } catch (e) {
      extra += `\n(no status: ${(e as Error).message})`;
    }
    // The kernel's view of each node, kept beside the logs (the namespaces go with the lab).
    for (const n of lab.state?.nodes ?? []) {
      const dump = await Promise.all([
        run('ip', ['netns', 'exec', n.netns, 'nft', 'list', 'ruleset']).catch((e: Error) => e.message),
        run('ip', ['-n', n.netns, 'route', 'show']).catch((e: Error) => e.message),
        run('ip', ['-n', n.netns, 'link', 'show']).catch((e: Error) => e.message),
      ]);
      try {
        writeFileSync(join(lab.dir, `kernel-${n.name}.txt`), dump.join('\n----\n'));
      } catch {
        // the dir is gone
      }
    }
    try {
      const logs = join(lab.dir, 'logs');
      for (const f of readdirSync(logs)) {
        if (f.startsWith('felix') || f.startsWith('confd') || f.startsWith('bird')) {
          extra += `\n--- ${f} (tail) ---\n${logTail(join(logs, f), 1200)}`;
        }
      }
    } catch {
      // no logs yet
    }
    throw new Error(`${err instanceof Error ? err.message : String(err)}${extra}`, { cause: err });
  }
}

export const V3 = 'projectcalico.org/v3';

/**
 * A GlobalNetworkPolicy for every endpoint in namespaces labelled role=backend, denying what comes
 * from namespaces labelled role=frontend (Calico: namespaceSelector picks the endpoints by their
 * namespace's labels; the rule's namespaceSelector picks the sources).
 */
export const BACKEND_FROM_FRONTEND = {
  apiVersion: V3,
  kind: 'GlobalNetworkPolicy',
  metadata: { name: 'backend-from-frontend' },
  spec: {
    namespaceSelector: "role == 'backend'",
    types: ['Ingress'],
    ingress: [{ action: 'Deny', source: { namespaceSelector: "role == 'frontend'" } }, { action: 'Allow' }],
  },
};

/** The matrix BACKEND_FROM_FRONTEND leaves: everything but frontend → backend. */
export const frontToBack = (from: string, to: string): boolean => !(from.startsWith('frontend/') && to.startsWith('backend/'));

export async function apply(lab: Lab, doc: Record<string, unknown>): Promise<void> {
  await applyResource(lab.datastore(), doc as unknown as Resource);
}

export function pods(lab: Lab): PodRecord[] {
  return lab.state!.pods;
}

export const key = (p: Pick<PodRecord, 'namespace' | 'name'>) => `${p.namespace}/${p.name}`;

/** The pairs whose reachability differs from `expected(from, to)`; empty when the matrix is as expected. */
export function mismatches(results: readonly ProbeResult[], expected: (from: string, to: string) => boolean): string[] {
  return results
    .filter((r) => r.reachable !== expected(r.from, r.to))
    .map((r) => `${r.from} → ${r.to}: ${r.reachable ? 'reachable' : 'blocked'}, expected ${expected(r.from, r.to) ? 'reachable' : 'blocked'}`);
}

/**
 * Probes until the whole matrix matches `expected` (routes and policy settle over a few hundred
 * ms), or `ms` pass; on timeout fails with the pairs that were still wrong and the table.
 */
export async function matrixBecomes(
  lab: Lab,
  expected: (from: string, to: string) => boolean,
  what: string,
  ms = 20_000,
  opts: { from?: string[]; to?: string[] } = {},
): Promise<ProbeResult[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const results = await lab.probe({ concurrency: 10, ...opts });
    const wrong = mismatches(results, expected);
    if (wrong.length === 0) return results;
    if (Date.now() > deadline) {
      // Tell a conntrack hit (an old entry with the same ICMP id) from a dataplane problem: ping
      // the wrong pairs again with identifiers no earlier ping used.
      const recheck: string[] = [];
      for (const r of results.filter((x) => x.reachable !== expected(x.from, x.to))) {
        const src = pods(lab).find((p) => key(p) === r.from)!;
        const id = 40000 + Math.floor(Math.random() * 20000);
        const ok = await run('ip', ['netns', 'exec', src.netns, 'ping', '-n', '-c1', '-W1', '-e', String(id), r.toIp]).then(
          () => true,
          () => false,
        );
        recheck.push(`${r.from} → ${r.to} with ICMP id ${id}: ${ok ? 'reachable' : 'blocked'}`);
      }
      assert.fail(
        `${what}: after ${ms} ms still ${wrong.length} wrong pairs:\n  ${wrong.join('\n  ')}\nrechecked: ${recheck.join('; ')}\n${formatProbeTable(results)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Pings `from` → `to` until the answer is `reachable`, from `since` (ms timestamp of the write);
 * returns how long after `since` the first ping that showed it was sent.
 */
export async function pingBecomes(from: PodRecord, to: PodRecord, reachable: boolean, since: number, ms: number): Promise<number> {
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
