/**
 * Carrying out a plan's steps against a World, and healing everything at the end of a round.
 * Each step is bounded: it either acts and returns (a signal, a proxy state, a write) or waits
 * on something with its own deadline (etcd's restart, a killed process's exit). The "hold"
 * step is the only plain wait: it is a fault's duration, not synchronisation.
 */
import type { Rng } from './prng.js';
import type { Step } from './plan.js';
import type { World } from './world.js';

export async function runStep(w: World, step: Step, rng: Rng): Promise<string | undefined> {
  switch (step.op) {
    case 'write':
      await w.writer.writeRandom(step.count);
      return undefined;
    case 'hold':
      await new Promise((r) => setTimeout(r, step.ms));
      return undefined;
    case 'typha-kill':
      await w.replicas[step.replica].stop('SIGKILL');
      return undefined;
    case 'typha-term':
      await w.replicas[step.replica].stop('SIGTERM');
      return undefined;
    case 'typha-start':
      await w.replicas[step.replica].start(); // after a SIGTERMed one finished its hand-off
      return undefined;
    case 'etcd-stop':
      w.etcd.kill('SIGKILL');
      w.etcdDown = true;
      return undefined;
    case 'etcd-start':
      await w.etcd.restart();
      w.etcdDown = false;
      return undefined;
    case 'compact': {
      const revision = await w.etcdRevision();
      try {
        await w.etcd.etcdctl('compact', String(revision));
      } catch (err) {
        // Nothing was written since the last compaction: etcd refuses the same revision again.
        if (/required revision has been compacted/.test((err as Error).message)) return `already compacted at ${revision}`;
        throw err;
      }
      return `compacted at ${revision}`;
    }
    case 'link-cut':
      w.replicas[step.replica].link.cut();
      return undefined;
    case 'link-freeze':
      w.replicas[step.replica].link.freeze();
      return undefined;
    case 'link-heal':
      w.replicas[step.replica].link.heal();
      return undefined;
    case 'clients-reset': {
      const n = w.replicas[step.replica].front.cutSome(step.count, rng.next);
      return `reset ${n}`;
    }
  }
}

/** Ends every fault: links healed, etcd up, both replicas running, listening and ready. */
export async function healAll(w: World, readyMs: number): Promise<void> {
  for (const r of w.each()) r.link.heal();
  if (w.etcdDown) {
    await w.etcd.restart();
    w.etcdDown = false;
  }
  await Promise.all(w.each().map((r) => (r.up && r.wanted ? Promise.resolve() : r.start())));
  await Promise.all(w.each().map((r) => r.ready(readyMs)));
}
