/**
 * A swarm worker process (forked by swarm.ts): holds thousands of LiteClients and a few real
 * SyncClients to one Typha, and measures what they see.
 *
 *   parent ──init──▶ worker: make clients (not connected), reply
 *          ──storm─▶ connect all (≤ maxPendingConnects upgrades in flight); progress 4×/s;
 *                    per client: first in-sync − storm start
 *          ──phase─▶ label for the latency samples that follow (churn | resume | idle)
 *                    every live delta batch: receipt − write stamp, per churned update, per
 *                    client (histogram), and per revision the first and last receipt (fan-out)
 *          ──disconnect / reconnect─▶ the resume test: bytes of the resumed session vs the
 *                    same client's first (full snapshot) session
 *          ──floor-connect─▶ one raw ws per LiteClient to the parent's floor server
 *          ──wait-revision / digest / report─▶ convergence and numbers
 *          ──shutdown─▶ close everything, exit
 *
 * The worker never decides anything about the run; it only counts. All times are monotonic ms
 * (clock.ts), comparable with the parent's and the churn writer's.
 */
import { SyncClient, staticDiscovery, updateKey, type ClientStatus, type Update } from '@cattail/typha/client';
import { DigestBuilder, digestEntries } from './digest.js';
import { monoMs, stampToMs } from './clock.js';
import { FloorClient, type FloorHost } from './floor-client.js';
import { FrameCache, KeyTable, type FrameInfo } from './frame-cache.js';
import { TS_LABEL } from './generator.js';
import { createHistogram, record, type HistogramData } from './histogram.js';
import type { BatchReceipt, Command, DigestReport, FloorRound, Phase, Progress, ResumeResult, WorkerConfig, WorkerMessage, WorkerReport } from './ipc.js';
import { LiteClient, type LiteHost } from './lite-client.js';

/** A real SyncClient with the measurements the swarm takes of LiteClients. */
class SyncProbe {
  readonly node: string;
  readonly client: SyncClient;
  readonly #worker: SwarmWorker;
  inSyncAt = 0;
  live = false;

  constructor(worker: SwarmWorker, url: string, node: string) {
    this.node = node;
    this.#worker = worker;
    const hostPort = url.replace(/^ws:\/\//, '');
    this.client = new SyncClient({
      syncer: worker.cfg.syncer,
      node,
      discovery: staticDiscovery([hostPort]),
      clientId: 'cattail-bench-sync/0.1.0',
      callbacks: {
        onStatus: (status: ClientStatus) => this.#onStatus(status),
        onUpdates: (updates: Update[]) => this.#onUpdates(updates),
      },
    });
  }

  #onStatus(status: ClientStatus): void {
    if (status === 'in-sync') {
      this.live = true;
      if (this.inSyncAt === 0) {
        this.inSyncAt = monoMs();
        this.#worker.probeInSync();
      }
    } else if (status === 'disconnected' || status === 'resync') {
      this.live = false;
    }
  }

  #onUpdates(updates: Update[]): void {
    if (!this.live) return;
    const now = monoMs();
    for (const u of updates) {
      const ts = u.value?.labels?.[TS_LABEL];
      if (typeof ts === 'string') this.#worker.latencySample(now - stampToMs(ts));
    }
  }

  digest(): string {
    return digestEntries(this.client.snapshot().map((u) => [updateKey(u), u.value] as const));
  }
}

class SwarmWorker implements LiteHost, FloorHost {
  readonly cfg: WorkerConfig;
  readonly keys = new KeyTable();
  readonly frames: FrameCache;
  readonly clients: LiteClient[];
  readonly probes: SyncProbe[] = [];
  #t0 = 0;
  #inSyncMs: Float64Array;
  /** Churn-stamped updates each LiteClient received live during the 'churn' phase. */
  readonly #churnReceipts: Uint32Array;
  #opened = 0;
  #inSync = 0;
  #pending = 0;
  #queue = 0;
  readonly #slotHolders = new Set<LiteClient>();
  #unexpected = 0;
  readonly #closeReasons: Record<string, number> = {};
  #phase: Phase = 'idle';
  #deltaBytesAtChurn = { deflate: 0, plain: 0 };
  readonly #churnDeltaBytes = { deflate: 0, plain: 0 };
  readonly #latency: Record<Phase, HistogramData> = { idle: createHistogram(), churn: createHistogram(), resume: createHistogram() };
  readonly #batches = new Map<number, BatchReceipt>();
  // resume test
  #parked: LiteClient[] = [];
  #resumeWaiters: { left: number; resolve: () => void } | undefined;
  #resumeResults = new Map<LiteClient, ResumeResult>();
  // floor
  #floorClients: FloorClient[] = [];
  #floorOpen = 0;
  #floorWait: { resolve: () => void } | undefined;
  readonly #floorRounds = new Map<number, FloorRound>();
  #progressTimer: NodeJS.Timeout | undefined;

  constructor(cfg: WorkerConfig) {
    this.cfg = cfg;
    this.frames = new FrameCache(this.keys, undefined, cfg.deflateSnapshot, cfg.deltas !== 'plain');
    const addrs = cfg.localAddresses;
    const { host, port } = hostPort(cfg.url);
    this.clients = cfg.nodes.map(
      (node, i) =>
        new LiteClient(
          i,
          {
            host,
            port,
            syncer: cfg.syncer,
            node,
            localAddress: addrs.length ? addrs[i % addrs.length] : undefined,
            handshakeTimeoutMs: cfg.handshakeTimeoutMs,
            deflateSnapshot: cfg.deflateSnapshot,
            deflateDeltas: cfg.deltas === 'deflate' || (cfg.deltas === 'mixed' && i % 2 === 0),
          },
          this,
        ),
    );
    this.#inSyncMs = new Float64Array(cfg.nodes.length + cfg.syncNodes.length).fill(NaN);
    this.#churnReceipts = new Uint32Array(cfg.nodes.length);
  }

  // ── storm ─────────────────────────────────────────────────────────────────────────────────

  storm(t0: number): void {
    this.#t0 = t0;
    for (const node of this.cfg.syncNodes) {
      const p = new SyncProbe(this, this.cfg.url, node);
      this.probes.push(p);
      p.client.start();
    }
    this.#pump();
    this.#progressTimer = setInterval(() => this.#sendProgress(), 250);
  }

  #pump(): void {
    while (this.#pending < this.cfg.maxPendingConnects && this.#queue < this.clients.length) {
      const c = this.clients[this.#queue++];
      this.#pending++;
      this.#slotHolders.add(c);
      c.connect(false);
    }
  }

  opened(c: LiteClient): void {
    if (c.sessions === 0) this.#opened++;
    if (this.#slotHolders.delete(c)) {
      this.#pending--;
      this.#pump();
    }
  }

  connectFailed(c: LiteClient): void {
    // Its own retry timer reconnects it (outside the slots); the slot goes to the next client.
    if (this.#slotHolders.delete(c)) {
      this.#pending--;
      this.#pump();
    }
  }

  inSync(c: LiteClient, now: number, sessionBytes: number): void {
    if (c.firstInSyncAt !== 0 && Number.isNaN(this.#inSyncMs[c.id])) {
      this.#inSyncMs[c.id] = now - this.#t0;
      this.#inSync++;
    }
    const r = this.#resumeResults.get(c);
    if (r !== undefined && r.resumeBytes === 0) {
      r.resumeBytes = sessionBytes;
      r.mode = c.mode;
      r.ms = now - c.connectAt;
      r.ok = true;
      const w = this.#resumeWaiters;
      if (w !== undefined && --w.left === 0) w.resolve();
    }
  }

  probeInSync(): void {
    this.probes.forEach((p, i) => {
      const slot = this.clients.length + i;
      if (p.inSyncAt !== 0 && Number.isNaN(this.#inSyncMs[slot])) {
        this.#inSyncMs[slot] = p.inSyncAt - this.#t0;
        this.#inSync++;
      }
    });
  }

  liveDeltas(c: LiteClient, info: FrameInfo, now: number): void {
    const stamps = info.stamps;
    if (stamps.length === 0) return;
    if (this.#phase === 'churn') this.#churnReceipts[c.id] += stamps.length;
    const h = this.#latency[this.#phase];
    let minStamp = Infinity;
    for (let i = 0; i < stamps.length; i++) {
      record(h, now - stamps[i]);
      if (stamps[i] < minStamp) minStamp = stamps[i];
    }
    if (this.#phase !== 'churn') return;
    const b = this.#batches.get(info.revision);
    if (b === undefined) {
      this.#batches.set(info.revision, {
        revision: info.revision,
        first: now,
        last: now,
        clients: 1,
        minStamp,
        updates: info.keyIdx.length,
        bytes: info.bytes,
      });
    } else {
      if (now < b.first) b.first = now;
      if (now > b.last) b.last = now;
      b.clients++;
    }
  }

  latencySample(ms: number): void {
    record(this.#latency[this.#phase], ms);
  }

  closed(_c: LiteClient, code: number, reason: string, planned: boolean): void {
    if (!planned) {
      this.#unexpected++;
      const key = `${code} ${reason}`.slice(0, 80);
      this.#closeReasons[key] = (this.#closeReasons[key] ?? 0) + 1;
    }
  }

  #sendProgress(): void {
    let maxInSync = 0;
    for (const v of this.#inSyncMs) if (v > maxInSync) maxInSync = v;
    const p: Progress = {
      type: 'progress',
      workerId: this.cfg.workerId,
      clients: this.clients.length + this.probes.length,
      opened: this.#opened,
      inSync: this.#inSync,
      live: this.#liveCount(),
      unexpectedCloses: this.#unexpected,
      pendingConnects: this.#pending,
      maxInSyncMs: maxInSync,
    };
    send(p);
  }

  #liveCount(): number {
    let n = 0;
    for (const c of this.clients) if (c.phase === 'live') n++;
    for (const p of this.probes) if (p.live) n++;
    return n;
  }

  setPhase(phase: Phase): void {
    if (phase === 'churn' && this.#phase !== 'churn') this.#deltaBytesAtChurn = this.#deltaBytesByMode();
    if (phase !== 'churn' && this.#phase === 'churn') {
      const now = this.#deltaBytesByMode();
      this.#churnDeltaBytes.deflate += now.deflate - this.#deltaBytesAtChurn.deflate;
      this.#churnDeltaBytes.plain += now.plain - this.#deltaBytesAtChurn.plain;
    }
    this.#phase = phase;
  }

  #deltaBytesByMode(): { deflate: number; plain: number } {
    const r = { deflate: 0, plain: 0 };
    for (const c of this.clients) r[c.cfg.deflateDeltas ? 'deflate' : 'plain'] += c.deltaWireBytes;
    return r;
  }

  // ── resume test ───────────────────────────────────────────────────────────────────────────

  disconnect(count: number): number {
    this.#parked = this.clients.filter((c) => c.phase === 'live').slice(0, count);
    for (const c of this.#parked) c.disconnect();
    return this.#parked.length;
  }

  async reconnect(timeoutMs: number): Promise<ResumeResult[]> {
    const parked = this.#parked;
    this.#resumeResults = new Map(
      parked.map((c) => [c, { node: c.cfg.node, mode: undefined, snapshotBytes: c.snapshotBytes, resumeBytes: 0, ms: 0, ok: false }]),
    );
    if (parked.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.#resumeWaiters = { left: parked.length, resolve: done };
        for (const c of parked) c.connect(true);
      });
    }
    this.#resumeWaiters = undefined;
    const out = [...this.#resumeResults.values()];
    this.#parked = [];
    return out;
  }

  // ── floor ─────────────────────────────────────────────────────────────────────────────────

  async floorConnect(url: string, timeoutMs: number): Promise<number> {
    const addrs = this.cfg.localAddresses;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#floorWait = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const { host, port } = hostPort(url);
      this.#floorClients = this.clients.map((_, i) => new FloorClient(host, port, this, addrs.length ? addrs[i % addrs.length] : undefined));
    });
    this.#floorWait = undefined;
    return this.#floorOpen;
  }

  floorOpened(): void {
    if (++this.#floorOpen === this.#floorClients.length) this.#floorWait?.resolve();
  }

  floorReceipt(round: number, now: number, bytes: number): void {
    const r = this.#floorRounds.get(round);
    if (r === undefined) this.#floorRounds.set(round, { round, first: now, last: now, clients: 1, bytes });
    else {
      if (now < r.first) r.first = now;
      if (now > r.last) r.last = now;
      r.clients++;
    }
  }

  floorClosed(): void {
    this.#floorOpen--;
  }

  floorClose(): void {
    for (const c of this.#floorClients) c.close();
  }

  // ── convergence ───────────────────────────────────────────────────────────────────────────

  async waitRevision(revision: number, timeoutMs: number): Promise<{ reached: boolean; minRevision: number }> {
    const deadline = monoMs() + timeoutMs;
    for (;;) {
      const min = this.#minRevision();
      if (min >= revision || monoMs() > deadline) return { reached: min >= revision, minRevision: min };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  #minRevision(): number {
    let min = Infinity;
    for (const c of this.clients) min = Math.min(min, c.phase === 'live' ? c.revision : -1);
    for (const p of this.probes) min = Math.min(min, p.live ? p.client.revision : -1);
    return min === Infinity ? 0 : min;
  }

  digest(): DigestReport {
    const order = this.keys.sortedOrder();
    const hashes = this.keys.hashes;
    const digests: Record<string, number> = {};
    const syncClientDigests: Record<string, number> = {};
    let minRevision = Infinity;
    let maxRevision = 0;
    for (const c of this.clients) {
      const d = new DigestBuilder();
      const st = c.state;
      for (let i = 0; i < order.length; i++) {
        const k = order[i];
        const v = k < st.length ? st[k] : 0;
        if (v !== 0) d.add(hashes[k], v);
      }
      const s = d.digest();
      digests[s] = (digests[s] ?? 0) + 1;
      minRevision = Math.min(minRevision, c.revision);
      maxRevision = Math.max(maxRevision, c.revision);
    }
    for (const p of this.probes) {
      const s = p.digest();
      syncClientDigests[s] = (syncClientDigests[s] ?? 0) + 1;
      digests[s] = (digests[s] ?? 0) + 1;
      minRevision = Math.min(minRevision, p.client.revision);
      maxRevision = Math.max(maxRevision, p.client.revision);
    }
    return {
      digests,
      syncClientDigests,
      minRevision: minRevision === Infinity ? 0 : minRevision,
      maxRevision,
      live: this.#liveCount(),
      clients: this.clients.length + this.probes.length,
    };
  }

  report(): WorkerReport {
    let sMin = Infinity;
    let sMax = 0;
    let sSum = 0;
    let bytes = 0;
    let snapMin = Infinity;
    let snapMax = 0;
    let snapSum = 0;
    for (const c of this.clients) {
      sMin = Math.min(sMin, c.stampsReceived);
      sMax = Math.max(sMax, c.stampsReceived);
      sSum += c.stampsReceived;
      bytes += c.totalBytes;
      snapMin = Math.min(snapMin, c.snapshotBytes);
      snapMax = Math.max(snapMax, c.snapshotBytes);
      snapSum += c.snapshotBytes;
    }
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    return {
      workerId: this.cfg.workerId,
      clients: this.clients.length,
      syncClients: this.probes.length,
      inSyncMs: this.#inSyncMs,
      slowest: this.#slowest(5),
      latency: this.#latency,
      batches: [...this.#batches.values()],
      floor: [...this.#floorRounds.values()],
      stampsReceived: { min: sMin === Infinity ? 0 : sMin, max: sMax, sum: sSum },
      churnDeltaBytes: {
        ...this.#churnDeltaBytes,
        deflateClients: this.clients.filter((c) => c.cfg.deflateDeltas).length,
        plainClients: this.clients.filter((c) => !c.cfg.deflateDeltas).length,
      },
      churnReceipts: {
        min: this.#churnReceipts.reduce((a, b) => Math.min(a, b), this.#churnReceipts.length ? Infinity : 0),
        sum: this.#churnReceipts.reduce((a, b) => a + b, 0),
      },
      bytes: { total: bytes, snapshotMin: snapMin === Infinity ? 0 : snapMin, snapshotMax: snapMax, snapshotSum: snapSum },
      unexpectedCloses: this.#unexpected,
      closeReasons: this.#closeReasons,
      frames: { ...this.frames.stats },
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      rssMB: mem.rss / 1048576,
      heapUsedMB: mem.heapUsed / 1048576,
    };
  }

  #slowest(n: number): WorkerReport['slowest'] {
    const all: WorkerReport['slowest'] = [];
    this.clients.forEach((c, i) => all.push({ node: c.cfg.node, kind: 'lite', ms: this.#inSyncMs[i], attempts: c.attempts }));
    this.probes.forEach((p, i) => all.push({ node: p.node, kind: 'sync', ms: this.#inSyncMs[this.clients.length + i], attempts: 1 }));
    const key = (x: { ms: number }): number => (Number.isNaN(x.ms) ? Infinity : x.ms);
    return all.sort((a, b) => key(b) - key(a)).slice(0, n);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.#progressTimer);
    for (const c of this.clients) c.shutdown();
    this.floorClose();
    await Promise.race([Promise.all(this.probes.map((p) => p.client.close())), new Promise((r) => setTimeout(r, 3000))]);
  }
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

// ── process wiring ──────────────────────────────────────────────────────────────────────────

function send(msg: WorkerMessage): void {
  process.send?.(msg);
}

let worker: SwarmWorker | undefined;

async function handle(cmd: Command): Promise<unknown> {
  if (cmd.type === 'init') {
    worker = new SwarmWorker(cmd.config);
    return { clients: worker.clients.length };
  }
  const w = worker;
  if (w === undefined) throw new Error(`"${cmd.type}" before init`);
  switch (cmd.type) {
    case 'storm':
      w.storm(cmd.t0);
      return null;
    case 'phase':
      w.setPhase(cmd.phase);
      return null;
    case 'disconnect':
      return w.disconnect(cmd.count);
    case 'reconnect':
      return w.reconnect(cmd.timeoutMs);
    case 'floor-connect':
      return w.floorConnect(cmd.url, cmd.timeoutMs);
    case 'floor-close':
      w.floorClose();
      return null;
    case 'wait-revision':
      return w.waitRevision(cmd.revision, cmd.timeoutMs);
    case 'digest':
      return w.digest();
    case 'report':
      return w.report();
    case 'shutdown':
      await w.shutdown();
      setTimeout(() => process.exit(0), 50);
      return null;
  }
}

process.on('message', (raw: { seq: number; cmd: Command }) => {
  handle(raw.cmd).then(
    (body) => send({ type: 'reply', seq: raw.seq, ok: true, body }),
    (err: unknown) => send({ type: 'reply', seq: raw.seq, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});

// The parent going away (crash, SIGKILL) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', workerId: Number(process.env.BENCH_WORKER_ID ?? -1) });
