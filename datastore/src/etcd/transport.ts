/**
 * The boundary between the long-lived stream users (watch.ts, lease-keepalive.ts) and the
 * connection that opens their streams. Declared apart from connection.ts so those users can be
 * driven by a fake in unit tests: fragments, compaction answers and mid-stream failures are
 * hard to provoke on demand from a real etcd.
 */
import type { BackoffPolicy, DelayFn } from '../backoff.js';
import type { EtcdMethods, MethodCodec } from './proto.js';

/** The parts of a gRPC bidi call the stream users touch. */
export interface BidiCall {
  /** 'data' (a decoded response), 'error' (a gRPC ServiceError), 'end'. The payload type depends on the event. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: 'data' | 'error' | 'end', listener: (...args: any[]) => void): unknown;
  write(message: object): unknown;
  cancel(): void;
}

export interface OpenedStream {
  readonly call: BidiCall;
  /** Index of the endpoint the stream runs on, for `markUnavailable`. */
  readonly endpoint: number;
  /** Token the stream was opened with, for `invalidateToken`; undefined without auth. */
  readonly token: string | undefined;
}

export interface StreamTransport {
  readonly methods: EtcdMethods;
  readonly options: { readonly backoff: BackoffPolicy; readonly delay: DelayFn; readonly random: () => number };
  /** Opens a bidi stream on a ready endpoint. `requireLeader` makes a member without a leader end it. */
  openStream(method: MethodCodec, requireLeader: boolean): Promise<OpenedStream>;
  /** The stream on `endpoint` failed as unreachable: prefer the next endpoint from now on. */
  markUnavailable(endpoint: number): void;
  /** etcd refused `token`; the next open logs in again. */
  invalidateToken(token: string): void;
}
