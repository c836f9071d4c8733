/**
 * The Typha sync server: WebSocket connections, the encode-once fan-out, resume and catch-up,
 * slow-client handling, rebalancing and drain. Wiring (per syncer):
 *
 *   const server = new SyncServer({ caches, serverId, datastoreId, ... });
 *   const batcher = new DeltaBatcher({ next: cache, recorder: cache, codecs, publish: server.publisher('felix') });
 *   await server.start();             // later: await server.drain({ durationMs, hint }); await server.stop();
 */
export { SyncServer, type DrainOptions } from './sync-server.js';
export {
  SERVER_LIMITS,
  resolveServerOptions,
  type GoodbyeHint,
  type ResolvedServerOptions,
  type ServerLimitName,
  type ServerLimits,
  type ServerTlsOptions,
  type SyncServerOptions,
} from './options.js';
export type { ClientSummary, ConnectionState, ServerStatus, SyncerSummary } from './status.js';
export { directWriter, wsSendWriter, SharedFrame, SharedRun, frameHeader, wireFrame, type FrameWriter } from './frame-writer.js';
export { FanOut, type FanOutMember } from './fan-out.js';
export { checkClientIdentity, uriSans, type ClientIdentityRule } from './client-identity.js';
export { realClock, realWallClock, type Clock, type TimerHandle, type WallClock } from '../common/clock.js';
export { silentLogger, type Logger, type LogFn } from '../common/logger.js';
export { ServerError, ServerListenError, ServerOptionError, ServerStateError } from './errors.js';
