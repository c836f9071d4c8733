/**
 * A small seeded PRNG (splitmix32 → mulberry32-style mixing), so the generator and the churn
 * writer produce the same cluster and the same update sequence for the same seed on every run
 * and every machine. Math.random is never used for anything that shapes a benchmark's input.
 */
export interface Rng {
  /** [0, 1) like Math.random. */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** `n` lowercase hex digits. */
  hex(n: number): string;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
    hex(n) {
      let s = '';
      while (s.length < n)
        s += Math.floor(next() * 0x1_0000_0000)
          .toString(16)
          .padStart(8, '0');
      return s.slice(0, n);
    },
  };
}

/** A child stream for one purpose, so adding draws in one place does not shift another. */
export function deriveSeed(seed: number, purpose: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
