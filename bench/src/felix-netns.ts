/**
 * Network-namespace helpers for the Felix benchmarks: `@cattail/felix/testing`'s (which Felix's
 * tests use too), plus names `cfxb-<random>-<role>`, nodes with an uplink, and a cleanup stack
 * that runs even after a failure or a signal.
 */
import { createNetns, run, uniquePrefix as taggedPrefix } from '@cattail/felix/testing';

export { createNetns, requireNetnsTools, run, succeeds, wirePod } from '@cattail/felix/testing';

/** `cfxb-<6 hex>`: the benchmarks' own tag, so their leftovers are told from the tests'. */
export function uniquePrefix(): string {
  return taggedPrefix('cfxb');
}

/** A node with a default route (proxy ARP for the pods' 169.254.1.1 gateway needs one). */
export async function createNode(name: string): Promise<void> {
  await createNetns(name);
  await run('ip', ['-n', name, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1']);
  await run('ip', ['-n', name, 'link', 'set', 'ext1', 'up']);
  await run('ip', ['-n', name, 'link', 'set', 'ext0', 'up']);
  await run('ip', ['-n', name, 'route', 'add', 'default', 'dev', 'ext0']);
}

/** Runs cleanup steps last-first, every one even if another fails; also on SIGINT/SIGTERM. */
export class Cleanup {
  readonly #steps: Array<() => unknown> = [];
  #done = false;
  constructor() {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        void this.run().finally(() => process.exit(130));
      });
    }
  }
  push(step: () => unknown): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    for (const step of this.#steps.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
  }
}

export function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
