/**
 * The per-second view of a run that k6's end-of-test summary cannot give: every VU posts, once
 * a second, its latency counts in fixed bins (loadtest/k6/lib/histogram.js; `binIndex` here is
 * the same function, checked by a unit test) with its socket counts; the runner adds them up per
 * wall-clock second. Percentiles from the bins are exact to the bin width (0.5 ms below 100 ms).
 */
export const BIN_COUNT = 971;

export function binIndex(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms < 100) return Math.floor(ms * 2);
  if (ms < 1000) return 200 + Math.floor((ms - 100) / 5);
  if (ms < 60000) return 380 + Math.floor((ms - 1000) / 100);
  return 970;
}

/** The upper edge of a bin, ms (the overflow bin reports 60 s). */
export function binUpperMs(i: number): number {
  if (i < 200) return (i + 1) / 2;
  if (i < 380) return 100 + (i - 199) * 5;
  if (i < 970) return 1000 + (i - 379) * 100;
  return 60000;
}

/** The value below which `q` of the counted samples fall (bin upper edge); NaN when empty. */
export function binQuantile(bins: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < bins.length; i++) total += bins[i];
  if (total === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i];
    if (seen >= rank) return binUpperMs(i);
  }
  return binUpperMs(bins.length - 1);
}

/** What one VU posts every second (loadtest/k6/lib/engine.js `tick`). */
export interface TickReport {
  vu: number;
  /** The VU's wall clock, ms. */
  at: number;
  sockets: number;
  /** Sockets with an open WebSocket (syncing or live). */
  open: number;
  /** Sockets in sync (live). */
  live: number;
  /** Sockets that have been in sync at least once. */
  everInSync: number;
  /** Lowest revision among live sockets (0 when none is live). */
  minRevision: number;
  dropGen: number;
  /** Latency samples since the last tick and their bins (bin index → count). */
  latN: number;
  bins: Record<string, number>;
  /** Times to in-sync (ms) of sessions that reached InSync since the last tick. */
  inSyncMs: number[];
  /** WebSocket bytes received since the last tick. */
  bytes: number;
  errors: number;
  /** Unasked closes by close code, since the VU started. */
  closeCodes?: Record<string, number>;
  done: boolean;
}

export interface TimelinePoint {
  /** Seconds since the run started (wall clock). */
  t: number;
  /** Sums over VUs of their latest report in this second. */
  open: number;
  live: number;
  /** Latency samples received in this second and their percentiles (ms, bin upper edges). */
  latN: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Sessions that reached InSync in this second. */
  inSyncN: number;
  /** MB received by the k6 clients in this second. */
  mbIn: number;
  /** Extra series the runner samples itself (e.g. Typha's lagging clients), by name. */
  extra: Record<string, number>;
}

interface Second {
  bins: Uint32Array;
  latN: number;
  inSyncN: number;
  bytes: number;
  maxBin: number;
  latest: Map<number, { open: number; live: number }>;
  extra: Record<string, number>;
}

/** Adds VU reports up per second of the run. */
export class Timeline {
  readonly #startMs: number;
  readonly #seconds = new Map<number, Second>();
  readonly #latestByVu = new Map<number, TickReport>();
  /** All latency bins of the run (for the runner's own percentiles per phase). */
  readonly #phaseBins = new Map<string, Uint32Array>();

  constructor(startMs: number) {
    this.#startMs = startMs;
  }

  get latest(): ReadonlyMap<number, TickReport> {
    return this.#latestByVu;
  }

  #second(at: number): Second {
    const t = Math.max(0, Math.floor((at - this.#startMs) / 1000));
    let s = this.#seconds.get(t);
    if (s === undefined) {
      s = { bins: new Uint32Array(BIN_COUNT), latN: 0, inSyncN: 0, bytes: 0, maxBin: -1, latest: new Map(), extra: {} };
      this.#seconds.set(t, s);
    }
    return s;
  }

  add(r: TickReport, phase = 'all'): void {
    this.#latestByVu.set(r.vu, r);
    const s = this.#second(r.at);
    s.latN += r.latN;
    s.inSyncN += r.inSyncMs.length;
    s.bytes += r.bytes;
    s.latest.set(r.vu, { open: r.open, live: r.live });
    let pb = this.#phaseBins.get(phase);
    if (pb === undefined) {
      pb = new Uint32Array(BIN_COUNT);
      this.#phaseBins.set(phase, pb);
    }
    for (const [k, n] of Object.entries(r.bins)) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= BIN_COUNT) continue;
      s.bins[i] += n;
      pb[i] += n;
      if (i > s.maxBin) s.maxBin = i;
    }
  }

  /** A runner-side sample (e.g. Typha's lagging clients) at wall time `at`. */
  addExtra(at: number, name: string, value: number): void {
    this.#second(at).extra[name] = value;
  }

  /** Latency percentiles over every sample posted with `phase`. */
  phaseSummary(phase: string): { count: number; p50: number; p90: number; p99: number; max: number } {
    const b = this.#phaseBins.get(phase) ?? new Uint32Array(BIN_COUNT);
    let count = 0;
    let maxBin = -1;
    for (let i = 0; i < b.length; i++) {
      count += b[i];
      if (b[i] > 0) maxBin = i;
    }
    return { count, p50: binQuantile(b, 0.5), p90: binQuantile(b, 0.9), p99: binQuantile(b, 0.99), max: maxBin < 0 ? NaN : binUpperMs(maxBin) };
  }

  points(): TimelinePoint[] {
    const ts = [...this.#seconds.keys()].sort((a, b) => a - b);
    const out: TimelinePoint[] = [];
    // A VU's socket counts persist until it reports again (a second may lack a VU's tick).
    const carry = new Map<number, { open: number; live: number }>();
    for (const t of ts) {
      const s = this.#seconds.get(t) as Second;
      for (const [vu, v] of s.latest) carry.set(vu, v);
      let open = 0;
      let live = 0;
      for (const v of carry.values()) {
        open += v.open;
        live += v.live;
      }
      out.push({
        t,
        open,
        live,
        latN: s.latN,
        p50: binQuantile(s.bins, 0.5),
        p90: binQuantile(s.bins, 0.9),
        p99: binQuantile(s.bins, 0.99),
        max: s.maxBin < 0 ? NaN : binUpperMs(s.maxBin),
        inSyncN: s.inSyncN,
        mbIn: Math.round((s.bytes / 1e6) * 100) / 100,
        extra: s.extra,
      });
    }
    return out;
  }
}
