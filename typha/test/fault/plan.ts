/**
 * A round's steps, drawn up front from the seed (a pure function: same seed, same list), so a
 * failing round prints the exact list and `--seed S` replays it. The generator tracks what is
 * broken so every step makes sense (only a live Typha is killed, only a cut link healed,
 * writes only while etcd is up) and leans toward the dangerous mixes: compaction is likelier
 * while a replica is down or its link is cut or frozen, since a relist after a gap is where a
 * replica learns nothing of what happened inside it.
 *
 *   write n          n random writes (creates, updates, deletes) straight to etcd
 *   hold ms          let the faults in place last (writes are the other way time passes)
 *   typha-kill R     SIGKILL replica R (a crash; clients lose it mid-stream)
 *   typha-term R     SIGTERM replica R (graceful: hand-off with hints over 1 s, then exit)
 *   typha-start R    start R again (it listens once it reaches etcd)
 *   etcd-stop        SIGKILL etcd; etcd-start brings it back on the same ports and data
 *   compact          `etcdctl compact <current revision>`
 *   link-cut R       reset R's etcd connections and refuse new ones; link-heal R ends it
 *   link-freeze R    R's etcd connections stay open, no byte moves (ended by link-heal)
 *   clients-reset R  reset n client sockets at R's front (clients reconnect and resume)
 */
import type { Rng } from './prng.js';
import type { ReplicaName } from './replica.js';

export type Step =
  | { op: 'write'; count: number }
  | { op: 'hold'; ms: number }
  | { op: 'typha-kill' | 'typha-term' | 'typha-start'; replica: ReplicaName }
  | { op: 'etcd-stop' | 'etcd-start' | 'compact' }
  | { op: 'link-cut' | 'link-freeze' | 'link-heal'; replica: ReplicaName }
  | { op: 'clients-reset'; replica: ReplicaName; count: number };

export function describeStep(s: Step): string {
  switch (s.op) {
    case 'write':
      return `write ${s.count}`;
    case 'hold':
      return `hold ${s.ms}ms`;
    case 'clients-reset':
      return `clients-reset ${s.replica} ${s.count}`;
    case 'etcd-stop':
    case 'etcd-start':
    case 'compact':
      return s.op;
    default:
      return `${s.op} ${s.replica}`;
  }
}

interface Shape {
  typhaUp: Record<ReplicaName, boolean>;
  link: Record<ReplicaName, 'open' | 'cut' | 'frozen'>;
  etcdUp: boolean;
}

const REPLICAS: readonly ReplicaName[] = ['A', 'B'];

export function planRound(rng: Rng, count: number): Step[] {
  const s: Shape = { typhaUp: { A: true, B: true }, link: { A: 'open', B: 'open' }, etcdUp: true };
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    const step = rng.weighted(candidates(s, rng));
    apply(s, step);
    steps.push(step);
  }
  return steps;
}

function candidates(s: Shape, rng: Rng): Array<readonly [Step, number]> {
  const out: Array<readonly [Step, number]> = [];
  const degraded = REPLICAS.some((r) => !s.typhaUp[r] || s.link[r] !== 'open');
  if (s.etcdUp) {
    out.push([{ op: 'write', count: rng.range(1, 6) }, 30]);
    out.push([{ op: 'compact' }, degraded ? 14 : 3]);
    out.push([{ op: 'etcd-stop' }, 2]);
  } else {
    out.push([{ op: 'etcd-start' }, 30]);
  }
  out.push([{ op: 'hold', ms: rng.range(200, 1500) }, 6]);
  for (const r of REPLICAS) {
    if (s.typhaUp[r]) {
      out.push([{ op: 'typha-kill', replica: r }, 4]);
      out.push([{ op: 'typha-term', replica: r }, 3]);
      out.push([{ op: 'clients-reset', replica: r, count: rng.range(1, 20) }, 8]);
    } else {
      out.push([{ op: 'typha-start', replica: r }, 12]);
    }
    if (s.link[r] === 'open') {
      out.push([{ op: 'link-cut', replica: r }, 6]);
      out.push([{ op: 'link-freeze', replica: r }, 3]);
    } else {
      out.push([{ op: 'link-heal', replica: r }, 6]);
    }
  }
  return out;
}

function apply(s: Shape, step: Step): void {
  switch (step.op) {
    case 'typha-kill':
    case 'typha-term':
      s.typhaUp[step.replica] = false;
      return;
    case 'typha-start':
      s.typhaUp[step.replica] = true;
      return;
    case 'etcd-stop':
      s.etcdUp = false;
      return;
    case 'etcd-start':
      s.etcdUp = true;
      return;
    case 'link-cut':
      s.link[step.replica] = 'cut';
      return;
    case 'link-freeze':
      s.link[step.replica] = 'frozen';
      return;
    case 'link-heal':
      s.link[step.replica] = 'open';
      return;
    default:
      return;
  }
}
