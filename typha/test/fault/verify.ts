/**
 * The round's verdict: every client's `snapshot()` against the expected projection of its
 * syncer, key by key. A difference is one of three kinds, which is also how failures are
 * classified across rounds:
 *
 *   extra    the client holds a key the datastore does not have (a delete it never got)
 *   missing  the datastore has a key the client does not hold
 *   stale    both have it, with different values (the client kept an old one)
 *
 * Values are compared as JSON data (key order ignored), with the same `jsonEqual` the client's
 * LocalState uses; revisions are shown in reports but not compared (a relist may stamp a key
 * with another revision than the watch would have).
 */
import { jsonEqual, updateKey } from '../../src/pipeline/index.js';
import type { Update } from '../../src/protocol/messages.js';
import type { ExpectedState } from './expected.js';
import type { Fleet, FleetMember } from './fleet.js';

export type DiffKind = 'extra' | 'missing' | 'stale';

export interface KeyDiff {
  kind: DiffKind;
  key: string;
  /** Revision of the client's value (extra, stale). */
  held?: number;
  /** Revision of etcd's value (missing, stale). */
  want?: number;
}

export interface ClientDiff {
  id: string;
  syncer: string;
  node: string;
  replica: string;
  revision: number;
  diffs: KeyDiff[];
  history: string[];
}

export function diffClient(m: FleetMember, replica: string, expected: ExpectedState): ClientDiff | undefined {
  const want = expected.bySyncer.get(m.syncer) ?? new Map<string, Update>();
  const held = new Map<string, Update>();
  for (const u of m.client.snapshot()) held.set(updateKey(u), u);
  const diffs: KeyDiff[] = [];
  for (const [key, h] of held) {
    const w = want.get(key);
    if (w === undefined) diffs.push({ kind: 'extra', key, held: h.revision });
    else if (!jsonEqual(h.value, w.value)) diffs.push({ kind: 'stale', key, held: h.revision, want: w.revision });
  }
  for (const [key, w] of want) if (!held.has(key)) diffs.push({ kind: 'missing', key, want: w.revision });
  if (diffs.length === 0) return undefined;
  return { id: m.id, syncer: m.syncer, node: m.node, replica, revision: m.client.revision, diffs, history: [...m.history] };
}

/** Every client's differences, captured in one synchronous pass (one instant of the fleet). */
export function diffFleet(fleet: Fleet, expected: ExpectedState): ClientDiff[] {
  const out: ClientDiff[] = [];
  for (const m of fleet.members) {
    const d = diffClient(m, fleet.replicaOf(m), expected);
    if (d) out.push(d);
  }
  return out;
}

/** The failure kinds present, sorted, e.g. ['extra', 'stale']. */
export function diffKinds(diffs: readonly ClientDiff[]): DiffKind[] {
  const kinds = new Set<DiffKind>();
  for (const c of diffs) for (const d of c.diffs) kinds.add(d.kind);
  return [...kinds].sort();
}

export function formatDiffs(diffs: readonly ClientDiff[], maxKeys = 6): string {
  const lines: string[] = [];
  for (const c of diffs) {
    lines.push(`  client ${c.id} (${c.syncer}, node ${c.node}) on replica ${c.replica}, in sync at r=${c.revision}:`);
    for (const d of c.diffs.slice(0, maxKeys)) {
      const revs = [d.held !== undefined ? `held r=${d.held}` : '', d.want !== undefined ? `etcd r=${d.want}` : ''].filter(Boolean).join(', ');
      lines.push(`    ${d.kind.padEnd(7)} ${d.key} (${revs})`);
    }
    if (c.diffs.length > maxKeys) lines.push(`    … ${c.diffs.length - maxKeys} more`);
    lines.push(`    history: ${c.history.join(' | ')}`);
  }
  return lines.join('\n');
}
