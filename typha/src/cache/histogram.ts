/**
 * Cumulative-bucket histogram data in Prometheus' shape (upper bounds, counts per bound, sum,
 * count), kept as plain numbers so the cache has no metrics dependency; the metrics module
 * turns `snapshot()` into `typha_*` series later.
 */

export interface HistogramData {
  /** Upper bounds, ascending; an implicit +Inf bucket follows. */
  buckets: readonly number[];
  /** counts[i] = observations <= buckets[i]; the last entry is the +Inf bucket (= count). */
  counts: number[];
  sum: number;
  count: number;
}

export interface Histogram {
  observe(v: number): void;
  snapshot(): HistogramData;
}

/** Default bounds for batch sizes (updates per batch). */
export const BATCH_SIZE_BUCKETS: readonly number[] = Object.freeze([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);

export function createHistogram(buckets: readonly number[]): Histogram {
  const bounds = Object.freeze([...buckets]);
  const perBucket = new Array<number>(bounds.length + 1).fill(0);
  let sum = 0;
  let count = 0;
  return {
    observe(v: number): void {
      let i = 0;
      while (i < bounds.length && v > bounds[i]) i++;
      perBucket[i]++;
      sum += v;
      count++;
    },
    snapshot(): HistogramData {
      const counts: number[] = [];
      let acc = 0;
      for (const n of perBucket) counts.push((acc += n));
      return { buckets: bounds, counts, sum, count };
    },
  };
}
