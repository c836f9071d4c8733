/**
 * Validation of decoded frames. A codec turns bytes into an untrusted value; these functions check
 * the type of every field and return the same object typed as a message, or throw a
 * ProtocolError whose `closeCode` and `reason` the caller closes the socket with:
 *
 *   not a map / no string "type"         → MalformedFrame   `malformed frame: expected a map …`
 *   a type this side never receives      → UnexpectedMessage `unexpected message type "x" …`
 *   hello.protocolVersion out of range   → UnsupportedVersion (checked before any other field,
 *                                          so a future hello with a new shape gets this answer)
 *   hello.syncer unknown                 → UnknownSyncer
 *   any other field wrong                → MalformedFrame   `malformed frame: <path> must be …`
 *
 * The value is validated in place rather than copied: an agent parses snapshots of 100k updates.
 * Unknown fields are ignored and left alone (a newer peer may add optional fields behind a
 * feature flag). An optional field that is null (MessagePack nil, JSON null) is treated as absent
 * and deleted, so consumers only ever test `=== undefined`.
 */
import { MalformedFrameError, UnexpectedMessageError, UnknownSyncerError, quote } from './errors.js';
import {
  SYNCER_TYPES,
  isSyncerType,
  type ClientHello,
  type ClientMessage,
  type Deltas,
  type Goodbye,
  type InSync,
  type Ping,
  type Pong,
  type ServerHello,
  type ServerMessage,
  type SnapshotPage,
  type Update,
} from './messages.js';
import { MAX_CLIENT_ID_LENGTH, MAX_FEATURES, MAX_FEATURE_LENGTH, MAX_NODE_NAME_LENGTH } from './transport.js';
import { checkVersion } from './version.js';

type Rec = Record<string, unknown>;

const CLIENT_TYPES = 'hello, ping, pong';
const SERVER_TYPES = 'hello, snapshot, in-sync, deltas, ping, pong, goodbye';

/** Server side: a frame from an agent. */
export function parseClientMessage(value: unknown): ClientMessage {
  const msg = envelope(value);
  switch (msg.type) {
    case 'hello':
      return clientHello(msg);
    case 'ping':
    case 'pong':
      return pingPong(msg);
    default:
      throw unexpected(msg.type as string, 'client', CLIENT_TYPES);
  }
}

/** Client side: a frame from Typha. */
export function parseServerMessage(value: unknown): ServerMessage {
  const msg = envelope(value);
  switch (msg.type) {
    case 'hello':
      return serverHello(msg);
    case 'snapshot':
      return snapshotPage(msg);
    case 'deltas':
      return deltas(msg);
    case 'in-sync':
      revision(msg, 'revision', 'in-sync');
      return msg as unknown as InSync;
    case 'ping':
    case 'pong':
      return pingPong(msg);
    case 'goodbye':
      return goodbye(msg);
    default:
      throw unexpected(msg.type as string, 'server', SERVER_TYPES);
  }
}

/** Checks one update in place; `path` names it in an error (`deltas.updates[3]`). */
export function parseUpdate(value: unknown, path = 'update'): Update {
  checkUpdate(value, path, -1);
  return value as Update;
}

/**
 * `index` >= 0 names the update as `<prefix>.updates[<index>]`; the path string is only built
 * when there is an error to report, since this runs once per update on the agent.
 */
function checkUpdate(u: unknown, prefix: string, index: number): void {
  if (!isRecord(u)) throw malformed(`${at(prefix, index)} must be a map`);
  if (!isNonEmptyString(u.kind)) throw malformed(`${at(prefix, index)}.kind must be a non-empty string`);
  if (!isNonEmptyString(u.name)) throw malformed(`${at(prefix, index)}.name must be a non-empty string`);
  if (optional(u, 'namespace') && !isNonEmptyString(u.namespace)) {
    throw malformed(`${at(prefix, index)}.namespace must be a non-empty string`);
  }
  if (!isRevision(u.revision)) throw malformed(`${at(prefix, index)}.revision must be a non-negative integer`);
  if (optional(u, 'value')) {
    const v = u.value;
    if (!isRecord(v)) throw malformed(`${at(prefix, index)}.value must be a map (or absent for a deletion)`);
    if (optional(v, 'labels') && !isStringMap(v.labels)) {
      throw malformed(`${at(prefix, index)}.value.labels must map strings to strings`);
    }
    if (optional(v, 'spec') && !isRecord(v.spec)) throw malformed(`${at(prefix, index)}.value.spec must be a map`);
  }
}

function at(prefix: string, index: number): string {
  return index < 0 ? prefix : `${prefix}.updates[${index}]`;
}

function envelope(value: unknown): Rec {
  if (!isRecord(value) || typeof value.type !== 'string') {
    throw malformed('expected a map with a string "type"');
  }
  return value;
}

function clientHello(m: Rec): ClientHello {
  checkVersion(m.protocolVersion, 'server');
  if (typeof m.syncer !== 'string') throw malformed('hello.syncer must be a string');
  if (!isSyncerType(m.syncer)) throw new UnknownSyncerError(m.syncer, SYNCER_TYPES);
  nonEmptyString(m, 'node', 'hello');
  if ((m.node as string).length > MAX_NODE_NAME_LENGTH) {
    throw malformed(`hello.node is longer than ${MAX_NODE_NAME_LENGTH} characters`);
  }
  if (optional(m, 'client')) {
    if (typeof m.client !== 'string' || m.client.length > MAX_CLIENT_ID_LENGTH) {
      throw malformed(`hello.client must be a string of at most ${MAX_CLIENT_ID_LENGTH} characters`);
    }
  }
  features(m, 'hello', MAX_FEATURES, MAX_FEATURE_LENGTH);
  for (const field of ['resume', 'floor'] as const) {
    if (!optional(m, field)) continue;
    const r = m[field];
    if (!isRecord(r)) throw malformed(`hello.${field} must be a map`);
    revision(r, 'revision', `hello.${field}`);
    nonEmptyString(r, 'datastoreId', `hello.${field}`);
  }
  return m as unknown as ClientHello;
}

function serverHello(m: Rec): ServerHello {
  checkVersion(m.protocolVersion, 'client');
  nonEmptyString(m, 'server', 'hello');
  nonEmptyString(m, 'datastoreId', 'hello');
  features(m, 'hello', Infinity, Infinity);
  if (m.mode !== 'snapshot' && m.mode !== 'resume') throw malformed('hello.mode must be "snapshot" or "resume"');
  revision(m, 'revision', 'hello');
  return m as unknown as ServerHello;
}

function snapshotPage(m: Rec): SnapshotPage {
  revision(m, 'revision', 'snapshot');
  if (typeof m.page !== 'number' || !Number.isSafeInteger(m.page) || m.page < 0) {
    throw malformed('snapshot.page must be a non-negative integer');
  }
  if (typeof m.last !== 'boolean') throw malformed('snapshot.last must be a boolean');
  updates(m, 'snapshot');
  return m as unknown as SnapshotPage;
}

function deltas(m: Rec): Deltas {
  revision(m, 'revision', 'deltas');
  updates(m, 'deltas');
  return m as unknown as Deltas;
}

function pingPong(m: Rec): Ping | Pong {
  if (typeof m.ts !== 'number' || !Number.isFinite(m.ts)) throw malformed(`${m.type as string}.ts must be a finite number`);
  return m as unknown as Ping | Pong;
}

function goodbye(m: Rec): Goodbye {
  if (typeof m.code !== 'number' || !Number.isInteger(m.code) || m.code < 1000 || m.code > 4999) {
    throw malformed('goodbye.code must be an integer in 1000..4999');
  }
  if (typeof m.reason !== 'string') throw malformed('goodbye.reason must be a string');
  if (optional(m, 'reconnect') && !isWsUrl(m.reconnect)) {
    throw malformed('goodbye.reconnect must be a ws:// or wss:// URL');
  }
  if (optional(m, 'delayMs')) {
    const d = m.delayMs;
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw malformed('goodbye.delayMs must be a non-negative integer');
    }
  }
  return m as unknown as Goodbye;
}

function updates(m: Rec, type: string): void {
  const list = m.updates;
  if (!Array.isArray(list)) throw malformed(`${type}.updates must be an array`);
  for (let i = 0; i < list.length; i++) checkUpdate(list[i], type, i);
}

function features(m: Rec, type: string, maxCount: number, maxLength: number): void {
  const f = m.features;
  if (!Array.isArray(f) || !f.every((x) => typeof x === 'string')) {
    throw malformed(`${type}.features must be an array of strings`);
  }
  if (f.length > maxCount) throw malformed(`${type}.features has more than ${maxCount} entries`);
  if (f.some((x: string) => x.length > maxLength)) {
    throw malformed(`${type}.features has an entry longer than ${maxLength} characters`);
  }
}

function nonEmptyString(o: Rec, key: string, path: string): void {
  if (!isNonEmptyString(o[key])) throw malformed(`${path}.${key} must be a non-empty string`);
}

function revision(o: Rec, key: string, path: string): void {
  if (!isRevision(o[key])) throw malformed(`${path}.${key} must be a non-negative integer`);
}

function isNonEmptyString(v: unknown): boolean {
  return typeof v === 'string' && v !== '';
}

function isRevision(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** True if `key` holds a value; null and undefined are removed as absent. */
function optional(o: Rec, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) {
    if (v === null) delete o[key];
    return false;
  }
  return true;
}

function isRecord(v: unknown): v is Rec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isStringMap(v: unknown): boolean {
  if (!isRecord(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

function isWsUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function malformed(detail: string): MalformedFrameError {
  return new MalformedFrameError(detail);
}

function unexpected(type: string, from: string, expected: string): UnexpectedMessageError {
  return new UnexpectedMessageError(`unexpected message type ${quote(type, 20)} (a ${from} sends ${expected})`);
}
