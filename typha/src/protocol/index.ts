/**
 * `@cattail/typha/protocol`: the Typha sync protocol as data plus codecs, no I/O. The exchange
 * (handshake, snapshot or resume, live deltas, pings, goodbye) is drawn once, in docs/PROTOCOL.md.
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
  projectionTable,
  syncerKinds,
  type BgpViews,
  type FelixViews,
  type IpamViews,
  type KindOf,
  type KindUpdate,
  type Labels,
  type Projection,
  type ProjectionOptions,
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
export { compressFrame, decodeServerFrame, SNAPSHOT_DEFLATE_LEVEL, type FrameAcceptance } from './compressed.js';
export {
  buildDeltaDictionary,
  deflateDeltasFrame,
  deltaDictionaryFrame,
  DELTA_DEFLATE_LEVEL,
  DELTA_DICTIONARY_MAX_BYTES,
  type DeltaDictionaryData,
} from './deflated-deltas.js';
export { checkVersion, SUPPORTED_VERSIONS, type VersionRange } from './version.js';
export * from './errors.js';
export * from './transport.js';
