/**
 * A latency histogram cheap enough to record millions of samples in a swarm worker: fixed
 * 0.1 ms bins up to 30 s (300,000 Uint32 bins, 1.2 MB), plus exact min, max, count and sum.
 * Workers send the bins to the parent (structured clone of a typed array) and the parent adds
 * them, so percentiles over the whole swarm are exact to the bin width.
 */
export const BIN_MS = 0.1;
export const BINS = 300_000;

export interface HistogramData {
  bins: Uint32Array;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Samples beyond the last bin (counted in the last bin too). */
  overflow: number;
}

export interface Summary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function createHistogram(): HistogramData {
  return { bins: new Uint32Array(BINS), count: 0, sum: 0, min: Infinity, max: -Infinity, overflow: 0 };
}

export function record(h: HistogramData, ms: number): void {
  let i = Math.floor(ms / BIN_MS);
  if (i < 0) i = 0;
  if (i >= BINS) {
    i = BINS - 1;
    h.overflow++;
  }
  h.bins[i]++;
  h.count++;
  h.sum += ms;
  if (ms < h.min) h.min = ms;
  if (ms > h.max) h.max = ms;
}

export function merge(into: HistogramData, from: HistogramData): void {
  for (let i = 0; i < BINS; i++) into.bins[i] += from.bins[i];
  into.count += from.count;
  into.sum += from.sum;
  into.overflow += from.overflow;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
}

/** The value below which `q` of the samples fall, to the bin's upper edge (exact max for q = 1). */
export function quantile(h: HistogramData, q: number): number {
  if (h.count === 0) return NaN;
  if (q >= 1) return h.max;
  const rank = Math.ceil(q * h.count);
  let seen = 0;
  for (let i = 0; i < BINS; i++) {
    seen += h.bins[i];
    if (seen >= rank) return Math.min((i + 1) * BIN_MS, h.max);
  }
  return h.max;
}

export function summarize(h: HistogramData): Summary {
  return {
    count: h.count,
    mean: h.count ? h.sum / h.count : NaN,
    min: h.count ? h.min : NaN,
    p50: quantile(h, 0.5),
    p90: quantile(h, 0.9),
    p99: quantile(h, 0.99),
    max: h.count ? h.max : NaN,
  };
}

/** Percentiles of a plain list (small lists: per-batch spreads, per-round floor times). */
export function listSummary(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN);
  return {
    count: s.length,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
    min: s.length ? s[0] : NaN,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: s.length ? s[s.length - 1] : NaN,
  };
}
