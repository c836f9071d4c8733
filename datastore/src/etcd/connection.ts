/**
 * The transport under EtcdClient: one gRPC channel per endpoint, endpoint choice with
 * failover, and the auth token.
 *
 *   unary(method, req) ──▶ token (log in once, shared) ──▶ first READY endpoint, in list order
 *        │                                                 from the last good one; else wait
 *        │                                                 dialTimeoutMs for each in turn
 *        ├─ UNAUTHENTICATED "invalid auth token" ─▶ forget token, log in again, retry once
 *        └─ UNAVAILABLE ─▶ move to the next endpoint; retry only if the call is idempotent
 *
 * Why mutations are not retried on UNAVAILABLE: the request may have reached etcd before the
 * connection broke, and a second Put or Txn would apply twice. Reads, status and login are safe.
 *
 * Channels are private to this connection (`grpc.use_local_subchannel_pool`), so close() really
 * closes the sockets, and two clients never share a connection whose keepalive state one of
 * them tuned. Keepalive pings notice a half-open connection; grpc-js then fails the open
 * streams with UNAVAILABLE and the watch and keepalive loops reconnect.
 */
import * as grpc from '@grpc/grpc-js';
import { etcdMethods, type EtcdMethods, type MethodCodec } from './proto.js';
import type { ResolvedOptions } from './options.js';
import { EtcdClosedError, EtcdUnavailableError, fromGrpcError, isInvalidTokenError, isServiceError } from './errors.js';
import type { OpenedStream, StreamTransport } from './transport.js';
import type { WireAuthenticateResponse } from './wire.js';

export class EtcdConnection implements StreamTransport {
  readonly methods: EtcdMethods = etcdMethods();
  readonly options: ResolvedOptions;
  #clients: grpc.Client[];
  #current = 0;
  #token: string | undefined;
  #login: Promise<string> | undefined;
  #closed = false;

  constructor(options: ResolvedOptions) {
    this.options = options;
    const channelOptions: grpc.ChannelOptions = {
      'grpc.keepalive_time_ms': options.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': options.keepalivePermitWithoutCalls ? 1 : 0,
      // Come back quickly after an etcd restart; gRPC's defaults (1 s growing to 120 s) would
      // leave a watcher blind for minutes after a short outage.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
      // A list over a large cluster passes gRPC's 4 MiB default; etcd bounds responses itself.
      'grpc.max_receive_message_length': -1,
      'grpc.use_local_subchannel_pool': 1,
    };
    this.#clients = options.endpoints.map((ep) => {
      const creds = ep.secure
        ? grpc.credentials.createSsl(options.tls.ca ?? null, options.tls.key ?? null, options.tls.cert ?? null)
        : grpc.credentials.createInsecure();
      return new grpc.Client(ep.target, creds, channelOptions);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** One unary call with login, endpoint choice, failover and error mapping. */
  async unary<T>(method: MethodCodec, request: object, what: string, idempotent: boolean): Promise<T> {
    let reauthenticated = false;
    let failovers = 0;
    for (;;) {
      const token = await this.#currentToken();
      const endpoint = await this.#readyEndpoint();
      try {
        return await this.#call<T>(endpoint, method, request, token);
      } catch (err) {
        if (token !== undefined && !reauthenticated && isInvalidTokenError(err)) {
          reauthenticated = true;
          this.invalidateToken(token);
          continue;
        }
        if (isServiceError(err) && err.code === grpc.status.UNAVAILABLE) {
          this.markUnavailable(endpoint);
          if (idempotent && ++failovers <= this.#clients.length) continue;
        }
        throw fromGrpcError(err, what);
      }
    }
  }

  async openStream(method: MethodCodec, requireLeader: boolean): Promise<OpenedStream> {
    const token = await this.#currentToken();
    const endpoint = await this.#readyEndpoint();
    if (this.#closed) throw new EtcdClosedError();
    const metadata = metadataFor(token);
    // etcd's clientv3 WithRequireLeader: a partitioned member closes the stream with
    // "no leader" instead of leaving the watcher silently stale.
    if (requireLeader) metadata.set('hasleader', 'true');
    const call = this.#clients[endpoint].makeBidiStreamRequest(method.path, method.serialize, method.deserialize, metadata);
    return { call, endpoint, token };
  }

  markUnavailable(endpoint: number): void {
    if (this.#current === endpoint) this.#current = (endpoint + 1) % this.#clients.length;
  }

  /** Once, however many callers noticed. */
  invalidateToken(token: string): void {
    if (this.#token === token) this.#token = undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#clients) c.close();
  }

  async #currentToken(): Promise<string | undefined> {
    if (this.#closed) throw new EtcdClosedError();
    if (this.options.auth === undefined) return undefined;
    if (this.#token !== undefined) return this.#token;
    if (this.#login === undefined) {
      this.#login = this.#authenticate().finally(() => {
        this.#login = undefined;
      });
    }
    return this.#login;
  }

  async #authenticate(): Promise<string> {
    const auth = this.options.auth!;
    let failovers = 0;
    for (;;) {
      const endpoint = await this.#readyEndpoint();
      try {
        const res = await this.#call<WireAuthenticateResponse>(
          endpoint,
          this.methods.authenticate,
          { name: auth.username, password: auth.password },
          undefined,
        );
        this.#token = res.token;
        return res.token;
      } catch (err) {
        if (isServiceError(err) && err.code === grpc.status.UNAVAILABLE) {
          this.markUnavailable(endpoint);
          if (++failovers <= this.#clients.length) continue;
        }
        throw fromGrpcError(err, `login as "${auth.username}"`);
      }
    }
  }

  #call<T>(endpoint: number, method: MethodCodec, request: object, token: string | undefined): Promise<T> {
    if (this.#closed) return Promise.reject(new EtcdClosedError());
    return new Promise((resolve, reject) => {
      this.#clients[endpoint].makeUnaryRequest(
        method.path,
        method.serialize,
        method.deserialize,
        request,
        metadataFor(token),
        { deadline: Date.now() + this.options.requestTimeoutMs },
        (err, res) => (err ? reject(err) : resolve(res as T)),
      );
    });
  }

  /**
   * The endpoint to use, in three passes:
   *   1. the first one READY now, starting at the preferred one;
   *   2. in list order, connect each and wait up to dialTimeoutMs, moving on at once when one
   *      fails (refused, TLS rejected) instead of waiting out its timeout;
   *   3. all failed fast: wait up to dialTimeoutMs for whichever comes back first (etcd
   *      restarting, a network blip), so a short outage is ridden out rather than reported.
   * Asking for the state with `true` starts a connection attempt on an idle channel.
   */
  async #readyEndpoint(): Promise<number> {
    if (this.#closed) throw new EtcdClosedError();
    const n = this.#clients.length;
    const start = this.#current;
    const order = Array.from({ length: n }, (_, k) => (start + k) % n);
    for (const i of order) {
      if (this.#clients[i].getChannel().getConnectivityState(true) === grpc.connectivityState.READY) {
        this.#current = i;
        return i;
      }
    }
    let lastError: unknown;
    for (const i of order) {
      try {
        await waitReadyOrFailure(this.#clients[i].getChannel(), this.options.dialTimeoutMs);
        this.#current = i;
        return i;
      } catch (err) {
        lastError = err;
      }
      if (this.#closed) throw new EtcdClosedError();
    }
    try {
      const i = await Promise.any(order.map((i) => waitForReady(this.#clients[i], this.options.dialTimeoutMs).then(() => i)));
      this.#current = i;
      return i;
    } catch (err) {
      lastError = (err as AggregateError).errors?.[0] ?? lastError;
    }
    if (this.#closed) throw new EtcdClosedError();
    const urls = this.options.endpoints.map((e) => e.url).join(', ');
    throw new EtcdUnavailableError(
      `etcd: no endpoint reachable within ${this.options.dialTimeoutMs} ms (tried ${urls}); is etcd running and the address right?`,
      { cause: lastError },
    );
  }
}

function metadataFor(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('token', token);
  return md;
}

/** Resolves on READY; rejects as soon as the channel reports a failure, or at the deadline. */
function waitReadyOrFailure(channel: ReturnType<grpc.Client['getChannel']>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      let state: grpc.connectivityState;
      try {
        state = channel.getConnectivityState(true);
      } catch (err) {
        reject(err);
        return;
      }
      if (state === grpc.connectivityState.READY) resolve();
      else if (state === grpc.connectivityState.TRANSIENT_FAILURE) reject(new Error('connection attempt failed'));
      else if (state === grpc.connectivityState.SHUTDOWN) reject(new Error('channel closed'));
      else channel.watchConnectivityState(state, deadline, (err) => (err ? reject(err) : check()));
    };
    check();
  });
}

function waitForReady(client: grpc.Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()));
    } catch (err) {
      // grpc-js throws synchronously on a channel that was closed meanwhile.
      reject(err);
    }
  });
}
