/**
 * Client options, validated once when the client is made and then frozen. Each default sits
 * beside its key with the reason for its value. TLS material may be given as PEM buffers or as
 * file paths (read here, synchronously, once).
 */
import { readFileSync } from 'node:fs';
import { realDelay, type BackoffPolicy, type DelayFn } from '../backoff.js';
import { EtcdConfigError } from './errors.js';

/** Watch and keepalive reconnects: 50 ms doubling to 4 s, ±50%. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  delaysMs: Object.freeze([50, 100, 250, 500, 1000, 2000, 4000]),
  jitter: 0.5,
});

export interface EtcdClientOptions {
  /** e.g. "http://127.0.0.1:2379", "https://etcd-0:2379", or "host:port" (TLS iff TLS material given). Tried in order. */
  endpoints: string[];
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** How long to wait for one endpoint to connect before trying the next. Default 5000. */
  dialTimeoutMs?: number;
  /** Ping the server after this much silence. Default 10000 (etcd's server refuses pings more often than every 5 s). */
  keepaliveTimeMs?: number;
  /** Drop the connection if a ping is not answered in this time. Default 5000. */
  keepaliveTimeoutMs?: number;
  /**
   * Ping even with no call open. Default false: etcd's server enforcement policy does not permit
   * pings without streams and answers them with GOAWAY "too_many_pings". While a watch or
   * keepalive stream is open, which is when a half-open connection matters, pings flow anyway.
   */
  keepalivePermitWithoutCalls?: boolean;
  /** Deadline of each unary call. Default 10000. */
  requestTimeoutMs?: number;
  /** Reconnect backoff for watches and lease keepalives. */
  backoff?: BackoffPolicy;
  /** Injected wait, for tests that need to act while a watch is disconnected. */
  delay?: DelayFn;
  /** Injected randomness for backoff jitter; [0, 1) like Math.random. */
  random?: () => number;
}

export interface ResolvedEndpoint {
  readonly url: string;
  /** host:port as gRPC wants it. */
  readonly target: string;
  readonly secure: boolean;
}

export interface ResolvedOptions {
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly tls: { readonly ca: Buffer | undefined; readonly cert: Buffer | undefined; readonly key: Buffer | undefined };
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly dialTimeoutMs: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly keepalivePermitWithoutCalls: boolean;
  readonly requestTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly delay: DelayFn;
  readonly random: () => number;
}

export function resolveOptions(o: EtcdClientOptions): ResolvedOptions {
  if (!Array.isArray(o.endpoints) || o.endpoints.length === 0) {
    throw new EtcdConfigError('etcd client: endpoints is empty; give at least one, e.g. "http://127.0.0.1:2379"');
  }
  const ca = pem('ca', o.ca, o.caFile);
  const cert = pem('cert', o.cert, o.certFile);
  const key = pem('key', o.key, o.keyFile);
  if ((cert === undefined) !== (key === undefined)) {
    throw new EtcdConfigError('etcd client: cert and key go together; give both or neither');
  }
  const hasTls = ca !== undefined || cert !== undefined;
  const endpoints = o.endpoints.map((url) => parseEndpoint(url, hasTls));
  if ((o.username === undefined) !== (o.password === undefined)) {
    throw new EtcdConfigError('etcd client: username and password go together; give both or neither');
  }
  if (o.username === '') throw new EtcdConfigError('etcd client: username is empty');
  return Object.freeze({
    endpoints: Object.freeze(endpoints),
    tls: Object.freeze({ ca, cert, key }),
    auth: o.username !== undefined ? Object.freeze({ username: o.username, password: o.password ?? '' }) : undefined,
    dialTimeoutMs: positive('dialTimeoutMs', o.dialTimeoutMs, 5000),
    keepaliveTimeMs: positive('keepaliveTimeMs', o.keepaliveTimeMs, 10_000),
    keepaliveTimeoutMs: positive('keepaliveTimeoutMs', o.keepaliveTimeoutMs, 5000),
    keepalivePermitWithoutCalls: o.keepalivePermitWithoutCalls ?? false,
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, 10_000),
    backoff: o.backoff ?? DEFAULT_BACKOFF,
    delay: o.delay ?? realDelay,
    random: o.random ?? Math.random,
  });
}

export function parseEndpoint(url: string, hasTls: boolean): ResolvedEndpoint {
  if (/^unixs?:/.test(url)) {
    throw new EtcdConfigError(`etcd client: endpoint "${url}": unix sockets are not supported; use host:port`);
  }
  const m = /^(?:(https?):\/\/)?(.+)$/.exec(url.trim());
  if (m === null || m[2].includes('/')) {
    throw new EtcdConfigError(`etcd client: endpoint "${url}" is not "http://host:port", "https://host:port" or "host:port"`);
  }
  const scheme = m[1];
  const target = m[2];
  if (!/:\d+$/.test(target)) {
    throw new EtcdConfigError(`etcd client: endpoint "${url}" has no port (etcd listens on 2379 by default)`);
  }
  const secure = scheme === 'https' || (scheme === undefined && hasTls);
  return Object.freeze({ url, target, secure });
}

function pem(name: string, value: Buffer | undefined, file: string | undefined): Buffer | undefined {
  if (value !== undefined && file !== undefined) {
    throw new EtcdConfigError(`etcd client: give ${name} or ${name}File, not both`);
  }
  if (file === undefined) return value;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new EtcdConfigError(`etcd client: cannot read ${name}File "${file}": ${(err as Error).message}`, { cause: err });
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new EtcdConfigError(`etcd client: ${name} must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}
