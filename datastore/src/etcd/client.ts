/**
 * EtcdClient: our own etcd v3 client on @grpc/grpc-js, covering what Cattail needs (KV, txn,
 * compaction, watch, leases, login, status) and nothing else.
 *
 * Why not the `etcd3` npm package: we need exact control over watch resume (last event
 * revision + 1, never a header revision), compaction surfaced as a typed error, keepalive
 * settings that catch half-open connections, and errors with stable codes. Those are the
 * invariants Typha's cache is built on, so they live in code we test against a real etcd.
 *
 * The pieces: connection.ts (channels, failover, auth token), watch.ts (resumable watch),
 * lease-keepalive.ts, txn.ts (compare/op vocabulary), convert.ts (wire to public types).
 */
import { EtcdConnection } from './connection.js';
import { toDeleteResult, toNumber, toPutResult, toRangeResult, toStatusResult, toTxnResult, headerRevision } from './convert.js';
import { EtcdLeaseNotFoundError } from './errors.js';
import { LeaseKeepAlive, type KeepAliveOptions } from './lease-keepalive.js';
import { resolveOptions, type EtcdClientOptions, type ResolvedOptions } from './options.js';
import { deleteRequest, putRequest, rangeRequest } from './requests.js';
import { toWireTxn, type TxnRequest } from './txn.js';
import type {
  Bytes,
  DeleteOptions,
  DeleteResult,
  KeyValue,
  LeaseGrantResult,
  LeaseId,
  LeaseTimeToLiveResult,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  StatusResult,
  TxnResult,
} from './types.js';
import { EtcdWatch, type WatchOptions, type WatchSink } from './watch.js';
import type {
  WireCompactionResponse,
  WireDeleteRangeResponse,
  WireLeaseGrantResponse,
  WireLeaseTimeToLiveResponse,
  WirePutResponse,
  WireRangeResponse,
  WireStatusResponse,
  WireTxnResponse,
} from './wire.js';

export class EtcdClient {
  readonly options: ResolvedOptions;
  #conn: EtcdConnection;
  #watches = new Set<EtcdWatch>();
  #leases = new Set<LeaseKeepAlive>();

  constructor(options: EtcdClientOptions) {
    this.options = resolveOptions(options);
    this.#conn = new EtcdConnection(this.options);
  }

  async range(key: Bytes, options: RangeOptions = {}): Promise<RangeResult> {
    const m = this.#conn.methods;
    const res = await this.#conn.unary<WireRangeResponse>(m.range, rangeRequest(key, options), 'range', true);
    return toRangeResult(res);
  }

  /** The single key, or undefined when absent. */
  async get(key: Bytes): Promise<KeyValue | undefined> {
    return (await this.range(key)).kvs[0];
  }

  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<PutResult> {
    const m = this.#conn.methods;
    const res = await this.#conn.unary<WirePutResponse>(m.put, putRequest(key, value, options), 'put', false);
    return toPutResult(res);
  }

  async deleteRange(key: Bytes, options: DeleteOptions = {}): Promise<DeleteResult> {
    const m = this.#conn.methods;
    const res = await this.#conn.unary<WireDeleteRangeResponse>(m.deleteRange, deleteRequest(key, options), 'delete', false);
    return toDeleteResult(res);
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const res = await this.#conn.unary<WireTxnResponse>(this.#conn.methods.txn, toWireTxn(request), 'txn', false);
    return toTxnResult(res);
  }

  /**
   * Drops history before `revision`. With `physical`, waits until the space is actually
   * reclaimed. Returns the store's revision. Retrying is harmless (etcd refuses a compaction at
   * or below the current one), so this one fails over.
   */
  async compact(revision: number, physical = false): Promise<number> {
    const res = await this.#conn.unary<WireCompactionResponse>(this.#conn.methods.compact, { revision, physical }, `compact to ${revision}`, true);
    return headerRevision(res.header);
  }

  async status(): Promise<StatusResult> {
    const res = await this.#conn.unary<WireStatusResponse>(this.#conn.methods.status, {}, 'status', true);
    return toStatusResult(res);
  }

  async grant(ttlSeconds: number, id?: LeaseId): Promise<LeaseGrantResult> {
    const req = { TTL: ttlSeconds, ID: id ?? '0' };
    const res = await this.#conn.unary<WireLeaseGrantResponse>(this.#conn.methods.leaseGrant, req, 'lease grant', false);
    return { id: res.ID, ttl: toNumber(res.TTL), revision: headerRevision(res.header) };
  }

  /** Ends the lease now; every key attached to it is deleted. */
  async revoke(id: LeaseId): Promise<void> {
    await this.#conn.unary(this.#conn.methods.leaseRevoke, { ID: id }, `lease revoke ${id}`, true);
  }

  async timeToLive(id: LeaseId, keys = false): Promise<LeaseTimeToLiveResult> {
    const res = await this.#conn.unary<WireLeaseTimeToLiveResponse>(this.#conn.methods.leaseTimeToLive, { ID: id, keys }, `lease time-to-live ${id}`, true);
    return { id: res.ID, ttl: toNumber(res.TTL), grantedTtl: toNumber(res.grantedTTL), keys: res.keys };
  }

  /**
   * Starts renewing `id` until stopped. Asks etcd for the lease's TTL first, so a lease that is
   * already gone fails here with EtcdLeaseNotFoundError instead of as a later 'lost'.
   */
  async keepAlive(id: LeaseId, options: KeepAliveOptions = {}): Promise<LeaseKeepAlive> {
    const { ttl } = await this.timeToLive(id);
    if (ttl <= 0) throw new EtcdLeaseNotFoundError(`etcd lease ${id} not found (expired or revoked)`);
    const handle = new LeaseKeepAlive(this.#conn, id, ttl, options, (done) => this.#leases.delete(done));
    this.#leases.add(handle);
    return handle;
  }

  /** Starts a resumable watch; see watch.ts for the delivery guarantees. */
  watch(options: WatchOptions, sink: WatchSink): EtcdWatch {
    const w = new EtcdWatch(this.#conn, options, sink, (done) => this.#watches.delete(done));
    if (!w.closed) this.#watches.add(w);
    return w;
  }

  /** Closes every watch and keepalive of this client, then the connections. Calls in flight fail. */
  close(): void {
    for (const w of [...this.#watches]) w.close();
    for (const l of [...this.#leases]) l.stop();
    this.#conn.close();
  }
}
