/**
 * The wire between the CNI shim (tools/cni-shim, the `cattail-cni` the runtime executes) and the
 * per-node daemon (`cattail cni-daemon`, daemon.ts): one request per unix-socket connection, data
 * plus a codec, no I/O here.
 *
 *   shim                                             daemon
 *    │ connect ───────────────────────────────────────▶ │  (refused/missing: the shim runs
 *    │ {"env":{CNI_*…},"stdin":"<netconf>"}  then EOF ─▶ │   cattail-cni-direct itself)
 *    │ ◀── {"stdout":"<CNI result>","exitCode":0}\n      │  ran the plugin
 *    │ ◀── {"fallback":"<why>"}\n                        │  did nothing: run direct instead
 *    │ ◀── EOF, no answer                                │  died mid-call: CNI error 11
 *
 * The request is bounded (MAX_REQUEST_BYTES, a network configuration is a few KiB): a larger one
 * is answered with a CNI error without being read to its end. A request that is not this JSON is
 * answered with a CNI error too (error 6), exit code 1, like the plugin's own decode error.
 * `fallback` is only ever answered before anything was done, so running the direct plugin then
 * is never a second ADD of the same pod.
 *
 * Compatibility: fields are only ever added; an unknown field in a request or answer is ignored.
 * The Go side (tools/cni-shim/main.go) mirrors these shapes; its test runs against this codec.
 */
import { DecodeError } from './errors.js';

export const MAX_REQUEST_BYTES = 1024 * 1024;
export const DEFAULT_DAEMON_SOCKET = '/var/run/cattail/cni.sock';
/** The shim and `cattail cni-daemon` read the socket path from here (flag --socket wins for the daemon). */
export const DAEMON_SOCKET_ENV = 'CATTAIL_CNI_DAEMON_SOCKET';

export interface DaemonRequest {
  /** The caller's CNI_* (and CATTAIL_CNI_*) variables: all the plugin reads of its environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
}

/** Either the plugin's output, or a refusal to act that sends the shim to the direct plugin. */
export type DaemonAnswer = { readonly stdout: string; readonly exitCode: number } | { readonly fallback: string };

export function encodeRequest(req: DaemonRequest): string {
  return JSON.stringify(req);
}

/** Throws DecodeError (CNI error 6) naming what is wrong with the request. */
export function decodeRequest(bytes: Buffer): DaemonRequest {
  if (bytes.length > MAX_REQUEST_BYTES) throw oversizedRequest(bytes.length);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new DecodeError(`the CNI daemon's request is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new DecodeError('the CNI daemon\'s request is not a JSON object {"env": {...}, "stdin": "..."}');
  const { env, stdin } = raw as { env?: unknown; stdin?: unknown };
  if (typeof stdin !== 'string') throw new DecodeError('the CNI daemon\'s request has no "stdin" string');
  if (typeof env !== 'object' || env === null || Array.isArray(env)) throw new DecodeError('the CNI daemon\'s request has no "env" object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') throw new DecodeError(`the CNI daemon's request: env.${k} is not a string`);
    out[k] = v;
  }
  return { env: out, stdin };
}

export function oversizedRequest(bytes: number): DecodeError {
  return new DecodeError(
    `the CNI daemon's request is larger than ${MAX_REQUEST_BYTES} bytes (at least ${bytes}): a network configuration is a few KiB, check what the runtime passes on stdin`,
  );
}

export function encodeAnswer(answer: DaemonAnswer): string {
  return `${JSON.stringify(answer)}\n`;
}

/** For clients written in TypeScript (tests, the benchmark): throws on anything but an answer. */
export function decodeAnswer(text: string): DaemonAnswer {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (typeof raw.fallback === 'string') return { fallback: raw.fallback };
  if (typeof raw.stdout === 'string' && typeof raw.exitCode === 'number') return { stdout: raw.stdout, exitCode: raw.exitCode };
  throw new Error(`not a CNI daemon answer: ${text.slice(0, 200)}`);
}
