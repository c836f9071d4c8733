/**
 * One k6 VU holding many Felix-like connections to Typha (docs/PROTOCOL.md, msgpack
 * subprotocol), reporting to the runner once a second and taking its orders from the answer.
 *
 *   VU ──every 1 s: POST /tick {open, inSync, minRevision, latency bins, …}──▶ runner
 *      ◀── {stop, drop, lastRevision, slowFromMs} ─────────────────────────────┘
 *
 * Per socket:
 *
 *   new WebSocket ─open: ClientHello─▶ syncing ─ServerHello, SnapshotPage*|Deltas*─▶ InSync ─▶ live
 *        ▲                                                                                  │
 *        ├── unexpected close: reopen after 1 s (with the resume token once in sync) ◀──────┤
 *        └── runner's `drop`: close 1000, reopen after RECONNECT_GAP_S ◀────────────────────┘
 *
 * What a socket measures:
 * - time to in-sync: from `new WebSocket` to the frame holding InSync (the frame's read time as
 *   k6's reader goroutine stamped it, `event.timestamp`, so a busy JavaScript loop does not add
 *   to it);
 * - delta latency: for every live update carrying the churn label, the frame's read time minus
 *   the write stamp. The writer stamps CLOCK_MONOTONIC ns (bench/src/churn.ts); k6 can only
 *   read the wall clock, so the runner measures wall − monotonic once (CLOCK_OFFSET_MS) and the
 *   stamp is moved onto the wall clock here. Both clocks are the same host's.
 * - session bytes: WebSocket payload + frame header of every frame from ServerHello to InSync.
 *
 * Decoding: snapshot pages are read only up to their `updates` array header (msgpack.js); live
 * delta batches are the same bytes for every socket (encode once, send many), so a VU decodes
 * each batch once and reuses the stamps for its other sockets (keyed by revision, checked by
 * length and a byte sample, so a coalesced catch-up batch with the same revision is decoded on
 * its own).
 */
import http from 'k6/http';
import { WebSocket } from 'k6/websockets';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'k6/timers';
import { decodeUpdates, encode, readHeader } from './msgpack.js';
import { binIndex } from './histogram.js';
import { config } from './config.js';
import * as m from './metrics.js';

export const SUBPROTOCOL = 'cattail.v1.msgpack';
const PROTOCOL_VERSION = 1;
const CLIENT = 'cattail-k6/0.1.0';
const RETRY_MS = 1000;

/**
 * Runs one VU until the runner says stop (or MAX_S passes). `behaviour`:
 *   dropOnOrder  true: close and reopen every socket when the runner's `drop` increases
 *   phaseTags    true: tag latencies `phase: baseline|slow` by the runner's slowFromMs
 */
export function runVu(vuId, behaviour) {
  const vu = newVu(vuId, behaviour || {});
  return new Promise((resolve) => {
    vu.resolve = resolve;
    startVu(vu);
  });
}

function newVu(id, behaviour) {
  return {
    id,
    behaviour,
    clients: [],
    frames: new Map(),
    control: { stop: false, drop: 0, lastRevision: 0, writes: 0, slowFromMs: 0 },
    dropGen: 0,
    tick: undefined,
    deadline: undefined,
    opener: undefined,
    stopping: false,
    resolve: undefined,
    // Since the last tick:
    bins: {},
    latN: 0,
    inSyncMsNew: [],
    bytesNew: 0,
    errors: 0,
    /** Unasked closes by code, since the start. */
    closeCodes: {},
    posting: false,
  };
}

function startVu(vu) {
  const n = config.sockets;
  for (let i = 0; i < n; i++) {
    const node = `${config.nodePrefix}-vu${pad(vu.id, 4)}-s${pad(i, 4)}`;
    vu.clients.push(newClient(i, node, i < Math.round(n * config.snapshotFraction)));
  }
  // Open sockets evenly over the ramp (all at once without one).
  const gapMs = n > 1 && config.rampS > 0 ? (config.rampS * 1000) / n : 0;
  let next = 0;
  const openSome = () => {
    vu.opener = undefined;
    if (vu.stopping) return;
    const due = gapMs === 0 ? n : Math.min(n, next + 1);
    for (; next < due; next++) openClient(vu, vu.clients[next]);
    if (next < n) vu.opener = setTimeout(openSome, gapMs);
  };
  openSome();
  vu.tick = setInterval(() => tick(vu), 1000);
  vu.deadline = setTimeout(() => stopVu(vu, 'deadline'), config.maxS * 1000);
}

function newClient(index, node, snapshotGroup) {
  return {
    index,
    node,
    /** Reconnect storm: this socket reconnects without its resume token (the control group). */
    snapshotGroup,
    ws: undefined,
    state: 'idle', // idle | connecting | syncing | live | waiting
    session: 'initial', // initial | resume | snapshot | retry
    openedAt: 0,
    firstOpenedAt: 0,
    sessionBytes: 0,
    keys: 0,
    mode: undefined,
    revision: 0,
    datastoreId: undefined,
    everInSync: false,
    initialBytes: 0,
    /** The last Goodbye's code and reason, for the close log line. */
    goodbye: '',
    reopen: undefined,
    dropGen: 0,
  };
}

function openClient(vu, c) {
  if (vu.stopping) return;
  c.state = 'connecting';
  c.openedAt = Date.now();
  if (c.firstOpenedAt === 0) c.firstOpenedAt = c.openedAt;
  c.sessionBytes = 0;
  c.keys = 0;
  c.mode = undefined;
  c.goodbye = '';
  let ws;
  try {
    ws = new WebSocket(`${config.typhaUrl}/sync`, [SUBPROTOCOL], { tags: { syncer: config.syncer } });
  } catch (err) {
    vu.errors++;
    m.unexpectedClose.add(true);
    scheduleReopen(vu, c, RETRY_MS);
    return;
  }
  ws.binaryType = 'arraybuffer';
  c.ws = ws;
  ws.onopen = () => onOpen(vu, c, ws);
  ws.onmessage = (ev) => onMessage(vu, c, ws, ev);
  ws.onclose = (ev) => onClose(vu, c, ws, ev);
  ws.onerror = () => {
    vu.errors++;
  };
}

function onOpen(vu, c, ws) {
  if (c.ws !== ws) return;
  c.state = 'syncing';
  const hello = {
    type: 'hello',
    protocolVersion: PROTOCOL_VERSION,
    syncer: config.syncer,
    node: c.node,
    client: CLIENT,
    features: ['resume', 'goodbye'],
  };
  // A socket offers its resume point only after it has been in sync (PROTOCOL.md, Resume rules),
  // and the reconnect storm's control group never does.
  if (c.everInSync && c.datastoreId !== undefined && !(c.session === 'snapshot')) {
    hello.resume = { revision: c.revision, datastoreId: c.datastoreId };
  }
  ws.send(encode(hello));
}

function frameBytes(len) {
  return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
}

function onMessage(vu, c, ws, ev) {
  if (c.ws !== ws) return;
  const data = ev.data;
  const len = data.byteLength;
  const at = ev.timestamp;
  vu.bytesNew += frameBytes(len);
  let h;
  try {
    h = readHeader(data);
  } catch (err) {
    protocolError(vu, c, `undecodable frame: ${err}`);
    return;
  }
  if (c.state !== 'live') c.sessionBytes += frameBytes(len);
  switch (h.type) {
    case 'deltas':
      if (c.state === 'live') liveDeltas(vu, c, h, at, len);
      else if (c.state !== 'syncing' || c.mode === undefined) protocolError(vu, c, 'deltas before the server hello');
      else if (c.mode === 'resume') c.keys += h.updatesCount;
      // Typha follows a snapshot's pages with the delta batches published while they were being
      // encoded (its "snapshot tail", typha/src/server/connection.ts #startSnapshot), before
      // InSync. docs/PROTOCOL.md lists only pages there; the reference client accepts both.
      else m.snapshotTailFrames.add(1);
      if (typeof h.revision === 'number') c.revision = h.revision;
      return;
    case 'snapshot':
      if (c.state !== 'syncing' || c.mode !== 'snapshot') protocolError(vu, c, 'snapshot page outside a snapshot session');
      else c.keys += h.updatesCount;
      return;
    case 'ping':
      ws.send(encode({ type: 'pong', ts: h.ts }));
      return;
    case 'pong':
      return;
    case 'hello':
      c.mode = h.mode;
      c.datastoreId = h.datastoreId;
      return;
    case 'in-sync':
      inSync(vu, c, h, at);
      return;
    case 'goodbye':
      c.goodbye = `${h.code} ${h.reason}`;
      return;
    default:
      protocolError(vu, c, `unknown message type ${h.type}`);
  }
}

function inSync(vu, c, h, at) {
  if (c.state !== 'syncing') {
    protocolError(vu, c, 'InSync twice');
    return;
  }
  c.state = 'live';
  c.revision = h.revision;
  const ms = at - c.openedAt;
  const session = c.session;
  m.inSyncMs.add(ms, { session });
  m.sessionBytes.add(c.sessionBytes, { session });
  vu.inSyncMsNew.push(Math.round(ms));
  if (c.mode === 'snapshot') m.snapshotKeys.add(c.keys);
  if (!c.everInSync) {
    c.everInSync = true;
    c.initialBytes = c.sessionBytes;
    m.inSyncRate.add(at - c.firstOpenedAt <= config.inSyncTimeoutS * 1000);
  } else if (session === 'resume' || session === 'snapshot') {
    m.sessionBytesRatio.add(c.sessionBytes / c.initialBytes, { session });
    if (session === 'resume') m.resumeAccepted.add(c.mode === 'resume');
  }
}

function liveDeltas(vu, c, h, at, len) {
  const stamps = stampsOf(vu, h, len);
  if (stamps.length === 0) return;
  const slowFrom = vu.control.slowFromMs;
  for (let i = 0; i < stamps.length; i++) {
    const ms = at - stamps[i];
    vu.latN++;
    const b = binIndex(ms);
    vu.bins[b] = (vu.bins[b] || 0) + 1;
    if (vu.behaviour.phaseTags) {
      const tags = { phase: slowFrom > 0 && stamps[i] >= slowFrom ? 'slow' : 'baseline' };
      m.deltaLatencyMs.add(ms, tags);
      m.stampedUpdates.add(1, tags);
    } else m.deltaLatencyMs.add(ms);
  }
  if (!vu.behaviour.phaseTags) m.stampedUpdates.add(stamps.length);
}

/** The wall-clock write times (ms) of a live batch's stamped updates, decoded once per VU. */
function stampsOf(vu, h, len) {
  const key = h.revision;
  const sig = sample(h.bytes);
  const hit = vu.frames.get(key);
  if (hit !== undefined && hit.len === len && hit.sig === sig) return hit.stamps;
  const stamps = [];
  let updates;
  try {
    updates = decodeUpdates(h);
  } catch (err) {
    vu.errors++;
    m.protocolErrors.add(1);
    return stamps;
  }
  const label = config.tsLabel;
  const offset = config.clockOffsetMs;
  for (let i = 0; i < updates.length; i++) {
    const v = updates[i].value;
    const s = v && v.labels ? v.labels[label] : undefined;
    if (typeof s === 'string' && Number.isFinite(offset)) stamps.push(Number(s) / 1e6 + offset);
  }
  vu.frames.set(key, { len, sig, stamps });
  if (vu.frames.size > 512) vu.frames.delete(vu.frames.keys().next().value);
  return stamps;
}

/** A cheap signature of a frame: every 31st byte and the last 16. */
function sample(bytes) {
  let hsh = 0x811c9dc5;
  const n = bytes.length;
  for (let i = 0; i < n; i += 31) hsh = Math.imul(hsh ^ bytes[i], 16777619);
  for (let i = Math.max(0, n - 16); i < n; i++) hsh = Math.imul(hsh ^ bytes[i], 16777619);
  return hsh >>> 0;
}

function protocolError(vu, c, what) {
  vu.errors++;
  m.protocolErrors.add(1);
  if (vu.errors <= 5) console.warn(`vu ${vu.id} ${c.node}: ${what}`);
}

function onClose(vu, c, ws, ev) {
  if (c.ws !== ws) return; // closed on purpose (drop, stop): counted there
  c.ws = undefined;
  const wasLive = c.state === 'live';
  const code = String(ev.code || 0);
  m.unexpectedClose.add(true, { code });
  vu.closeCodes[code] = (vu.closeCodes[code] || 0) + 1;
  if (vu.errors < 5) console.warn(`vu ${vu.id} ${c.node}: closed ${ev.code || ''} ${ev.reason || ''} ${c.goodbye}`);
  vu.errors++;
  c.state = 'idle';
  if (vu.stopping) return;
  // A Felix reconnects; so do we (resuming when it had been in sync).
  c.session = wasLive || c.everInSync ? 'retry' : c.session;
  scheduleReopen(vu, c, RETRY_MS);
}

function scheduleReopen(vu, c, ms) {
  if (vu.stopping) return;
  c.state = 'waiting';
  c.reopen = setTimeout(() => {
    c.reopen = undefined;
    openClient(vu, c);
  }, ms);
}

function dropAll(vu) {
  for (const c of vu.clients) {
    if (c.reopen !== undefined) {
      clearTimeout(c.reopen);
      c.reopen = undefined;
    }
    c.session = c.snapshotGroup ? 'snapshot' : 'resume';
    if (c.ws !== undefined) {
      m.unexpectedClose.add(false);
      c.ws.close(1000, 'loadtest: drop');
      c.ws = undefined;
    }
    c.state = 'waiting';
  }
  const gapMs = config.reconnectGapS * 1000;
  for (const c of vu.clients) scheduleReopen(vu, c, gapMs);
}

function tick(vu) {
  let open = 0;
  let live = 0;
  let minRevision = Infinity;
  for (const c of vu.clients) {
    if (c.state === 'syncing' || c.state === 'live') open++;
    if (c.state === 'live') {
      live++;
      if (c.revision < minRevision) minRevision = c.revision;
    }
  }
  const report = {
    vu: vu.id,
    at: Date.now(),
    sockets: vu.clients.length,
    open,
    live,
    everInSync: vu.clients.filter((c) => c.everInSync).length,
    minRevision: live > 0 ? minRevision : 0,
    dropGen: vu.dropGen,
    latN: vu.latN,
    bins: vu.bins,
    inSyncMs: vu.inSyncMsNew,
    bytes: vu.bytesNew,
    errors: vu.errors,
    closeCodes: vu.closeCodes,
    done: vu.stopping,
  };
  vu.bins = {};
  vu.latN = 0;
  vu.inSyncMsNew = [];
  vu.bytesNew = 0;
  if (!config.controlUrl || vu.posting) return;
  vu.posting = true;
  http
    .asyncRequest('POST', `${config.controlUrl}/tick`, JSON.stringify(report), {
      headers: { 'Content-Type': 'application/json' },
      tags: { name: 'control' },
      timeout: '5s',
    })
    .then(
      (res) => {
        vu.posting = false;
        if (res.status === 200) applyControl(vu, res.json());
      },
      () => {
        vu.posting = false;
      },
    );
}

function applyControl(vu, ctl) {
  if (vu.stopping) return;
  vu.control = ctl;
  if (vu.behaviour.dropOnOrder && ctl.drop > vu.dropGen) {
    vu.dropGen = ctl.drop;
    dropAll(vu);
  }
  if (ctl.stop) stopVu(vu, 'runner');
}

function stopVu(vu, why) {
  if (vu.stopping) return;
  vu.stopping = true;
  if (vu.opener !== undefined) clearTimeout(vu.opener);
  clearTimeout(vu.deadline);
  const last = vu.control.lastRevision;
  for (const c of vu.clients) {
    if (c.reopen !== undefined) clearTimeout(c.reopen);
    if (!c.everInSync) m.inSyncRate.add(false);
    if (last > 0) m.caughtUp.add(c.state === 'live' && c.revision >= last);
    if (c.ws !== undefined) {
      m.unexpectedClose.add(false);
      c.ws.close(1000, `loadtest: ${why}`);
      c.ws = undefined;
    }
  }
  // One last report (done: true), then let the event loop drain.
  vu.posting = false;
  tick(vu);
  clearInterval(vu.tick);
  vu.resolve();
}

function pad(n, w) {
  return String(n).padStart(w, '0');
}
