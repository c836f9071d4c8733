/**
 * The fault test's only source of randomness: mulberry32, a 32-bit seeded PRNG (small, fast,
 * good enough to pick steps; not for secrets). Every choice of a round (its plan, the writer's
 * values, the clients' shuffles and backoff jitter) comes from generators forked from the
 * round's seed, so the same seed gives the same steps and the same writes. `fork(label)`
 * derives an independent stream, so adding draws to one consumer (say the writer) does not
 * shift what another (the plan) gets.
 */
export interface Rng {
  /** [0, 1), like Math.random. */
  next: () => number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A choice weighted by the numbers beside each item (weights ≤ 0 never chosen). */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
  /** A new generator seeded from this seed and `label`. */
  fork(label: string): Rng;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of the label mixed with the seed: a stable 32-bit seed per (seed, label). */
function mix(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  const rng: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('rng.pick: no items');
      return items[Math.floor(next() * items.length)];
    },
    weighted: (items) => {
      let total = 0;
      for (const [, w] of items) if (w > 0) total += w;
      if (total <= 0) throw new Error('rng.weighted: no item has a positive weight');
      let r = next() * total;
      for (const [item, w] of items) {
        if (w <= 0) continue;
        r -= w;
        if (r < 0) return item;
      }
      return items.filter(([, w]) => w > 0).at(-1)![0];
    },
    fork: (label) => createRng(mix(seed, label)),
  };
  return rng;
}
