/**
 * The Typha sync protocol: messages as plain data. No I/O here; codecs turn these into frames.
 * The exchange, the rules and every close code: docs/PROTOCOL.md.
 *
 * Revisions are the datastore's global revision (etcd's), so a client may resume on any replica
 * of the same datastore (checked by `datastoreId`). An update without `value` is a deletion.
 *
 * Upgrade rules: `PROTOCOL_VERSION` changes only when a message's meaning changes; new optional
 * fields and new features go behind feature flags that the client offers and the server echoes
 * back if accepted, so an older peer never sees what it does not understand. A server accepts
 * client versions in [MIN_PROTOCOL_VERSION, PROTOCOL_VERSION] and otherwise closes with
 * CloseCode.UnsupportedVersion naming the range it supports.
 */

export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;

/** WebSocket subprotocols: one per codec. */
export const SUBPROTOCOL_MSGPACK = 'cattail.v1.msgpack';
export const SUBPROTOCOL_JSON = 'cattail.v1.json';

export const SYNCER_TYPES = ['felix', 'bgp', 'ipam', 'status'] as const;
export type SyncerType = (typeof SYNCER_TYPES)[number];

export function isSyncerType(v: unknown): v is SyncerType {
  return typeof v === 'string' && (SYNCER_TYPES as readonly string[]).includes(v);
}

/** Feature flags a client may offer; the server echoes those it accepts. */
export const Features = {
  /** Client understands resume (ServerHello.mode = 'resume' with coalesced deltas). */
  Resume: 'resume',
  /** Client accepts Goodbye messages with reconnect hints before a close. */
  Goodbye: 'goodbye',
  /**
   * Client accepts snapshot pages inside `Compressed` frames (binary codecs only). The server
   * compresses each page once per revision, so every client still gets the same bytes.
   */
  DeflateSnapshot: 'deflate-snapshot',
  /**
   * Client accepts live and replayed delta batches inside `Deflated` frames, raw DEFLATE with a
   * preset dictionary sent once per connection (`DeltaDictionary`, binary codecs only). Each
   * batch is compressed once per codec, so every client still gets the same bytes.
   */
  DeflateDeltas: 'deflate-deltas',
} as const;

/** Close codes (4000–4999 are the application range of RFC 6455). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  MessageTooBig: 1009,
  HandshakeTimeout: 4000,
  UnsupportedVersion: 4001,
  UnknownSyncer: 4002,
  MalformedFrame: 4003,
  UnexpectedMessage: 4004,
  Unauthorized: 4005,
  TooSlow: 4006,
  Rebalance: 4007,
  Shutdown: 4008,
  PingTimeout: 4009,
  ServerOverloaded: 4010,
  DatastoreMismatch: 4011,
  /** This replica has not reached the client's revision within the resume wait: try another. */
  ReplicaBehind: 4012,
} as const;
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * One resource change on the wire: kind and identity plus the projected value. This is the
 * shape the codecs, the cache and the server handle, whatever the kind; agents get the typed
 * form, `SyncerUpdate<syncer>` (views/index.ts), which is assignable to it.
 */
export interface Update {
  kind: string;
  name: string;
  namespace?: string;
  /** Datastore revision of this change. */
  revision: number;
  /** Projected resource (what this syncer needs of it); absent means deleted. */
  value?: ProjectedValue;
}

/**
 * A resource reduced to what one syncer reads: labels (if needed) and (part of) the spec. Each
 * (syncer, kind) has its exact type in views/; this is what they all have in common.
 */
export interface ProjectedValue {
  labels?: Record<string, string>;
  spec?: Record<string, unknown>;
}

export interface ClientHello {
  type: 'hello';
  protocolVersion: number;
  syncer: SyncerType;
  node: string;
  /** Free-form client build/version string for logs and /status. */
  client?: string;
  features: string[];
  /** Present when reconnecting with a consistent state: the revision it stands at. */
  resume?: { revision: number; datastoreId: string };
  /**
   * The newest revision of any data the client holds (>= `resume.revision`; present without
   * `resume` after a snapshot was cut off half-way). The server never brings the client below
   * it: it waits for its cache to get there, or says Goodbye(ReplicaBehind). An older server
   * ignores it.
   */
  floor?: { revision: number; datastoreId: string };
}

export interface ServerHello {
  type: 'hello';
  protocolVersion: number;
  server: string;
  datastoreId: string;
  features: string[];
  /** 'snapshot': pages follow, replace all state; 'resume': coalesced deltas follow. */
  mode: 'snapshot' | 'resume';
  /** The revision the client will be at when InSync arrives. */
  revision: number;
}

export interface SnapshotPage {
  type: 'snapshot';
  revision: number;
  page: number;
  last: boolean;
  updates: Update[];
}

export interface InSync {
  type: 'in-sync';
  revision: number;
}

export interface Deltas {
  type: 'deltas';
  /** The revision the client is at after applying these updates. */
  revision: number;
  updates: Update[];
}

export interface Ping {
  type: 'ping';
  /** Sender's clock, echoed back in the Pong for round-trip measurement. */
  ts: number;
}

export interface Pong {
  type: 'pong';
  ts: number;
}

export interface Goodbye {
  type: 'goodbye';
  code: number;
  reason: string;
  /** Where to reconnect (`ws://host:port`), if the server knows a better replica. */
  reconnect?: string;
  /** How long to wait before reconnecting, so a handoff is staggered. */
  delayMs?: number;
}

/**
 * An envelope for one frame compressed once and written as is to every client that accepted
 * `deflate-snapshot`: `data` is the raw DEFLATE (RFC 1951) of one complete frame of the
 * connection's codec, which holds a SnapshotPage. Never nested; binary codecs only (JSON has no
 * byte strings). The receiver unwraps it before parsing: see `decodeServerFrame`.
 */
export interface Compressed {
  type: 'compressed';
  encoding: 'deflate';
  data: Uint8Array;
}

/**
 * `deflate-deltas`: the preset dictionary the connection's `Deflated` frames are compressed
 * with, sent once right after the ServerHello (the same frame to every client of the syncer).
 * `id` names it in those frames; `data` is at most 32 KiB (DEFLATE's window).
 */
export interface DeltaDictionary {
  type: 'dictionary';
  id: number;
  data: Uint8Array;
}

/**
 * `deflate-deltas`: one Deltas frame of the connection's codec, raw DEFLATE (RFC 1951) with the
 * preset dictionary `dict`. Compressed once per batch and written as is to every client that
 * accepted the feature. The receiver unwraps it before parsing: see `decodeServerFrame`.
 */
export interface Deflated {
  type: 'deflated';
  dict: number;
  data: Uint8Array;
}

export type ClientMessage = ClientHello | Ping | Pong;
export type ServerMessage = ServerHello | SnapshotPage | InSync | Deltas | Ping | Pong | Goodbye | DeltaDictionary;
export type Message = ClientMessage | ServerMessage;
