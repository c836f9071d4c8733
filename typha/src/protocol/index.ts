/**
 * `@cattail/typha/protocol`: the Typha sync protocol as data plus codecs, no I/O.
 *
 *   client                                   server
 *     │ ── WebSocket upgrade GET /sync (subprotocol cattail.v1.msgpack | cattail.v1.json) ─▶
 *     │ ── ClientHello {syncer, node, protocolVersion, features, resume?} ─────────────────▶
 *     │ ◀─ ServerHello {server, datastoreId, features, mode: snapshot|resume, revision} ────
 *     │ ◀─ SnapshotPage* (mode=snapshot)  or  Deltas* (mode=resume, coalesced) ────────────
 *     │ ◀─ InSync {revision} ──────────────────────────────────────────────────────────────
 *     │ ◀─ Deltas {revision, updates} … (live; the same bytes for every client of a syncer)
 *     │ ◀─▶ Ping / Pong (both ways; either side closes on a missed deadline)
 *     │ ◀─ Goodbye {code, reason, reconnect?, delayMs?} then close(code, reason)
 *
 * Upgrade rules (docs/PROTOCOL.md has the full text): PROTOCOL_VERSION changes only when the
 * meaning of a message changes; new optional fields and behaviours go behind feature flags the
 * client offers and the server echoes back when it accepts them; receivers ignore unknown fields.
 *
 * What an update's `value` holds is typed per syncer and kind in `views/` (SyncerUpdate), with
 * the projection Typha makes it with.
 */
export * from './messages.js';
export {
  PROJECTIONS,
  VIEW_PROJECTIONS,
  syncerKinds,
  type BgpViews,
  type FelixViews,
  type IpamViews,
  type KindOf,
  type KindUpdate,
  type Labels,
  type Projection,
  type ProjectionTable,
  type Projections,
  type StatusViews,
  type SyncerUpdate,
  type ValidResource,
  type ViewMap,
  type ViewOf,
  type Views,
} from './views/index.js';
export type { Codec } from './codec.js';
export { msgpackCodec } from './msgpack-codec.js';
export { jsonCodec } from './json-codec.js';
export { CODECS, codecForSubprotocol, selectSubprotocol, type CodecName } from './codecs.js';
export { parseClientMessage, parseServerMessage, parseUpdate } from './parse.js';
export { compressFrame, decodeServerFrame, SNAPSHOT_DEFLATE_LEVEL } from './compressed.js';
export { checkVersion, SUPPORTED_VERSIONS, type VersionRange } from './version.js';
export * from './errors.js';
export * from './transport.js';
