/**
 * A scripted StreamTransport for unit tests of watch and keepalive: each openStream() yields a
 * FakeCall the test feeds responses into and fails at will; delays resolve at once (or wait
 * for a gate) and are recorded.
 */
import { EventEmitter, once } from 'node:events';
import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { etcdMethods } from '../../src/etcd/proto.js';
import type { OpenedStream, StreamTransport } from '../../src/etcd/transport.js';
import type { WireEvent, WireWatchResponse } from '../../src/etcd/wire.js';

export class FakeCall extends EventEmitter {
  readonly written: object[] = [];
  canceled = false;
  write(message: object): boolean {
    this.written.push(message);
    return true;
  }
  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.emit('error', grpcError(status.CANCELLED, 'Cancelled on client'));
  }
  respond(res: Partial<WireWatchResponse>): void {
    this.emit('data', watchResponse(res));
  }
  fail(code: number = status.UNAVAILABLE, details = 'Connection dropped'): void {
    this.emit('error', grpcError(code, details));
  }
}

export class FakeTransport extends EventEmitter implements StreamTransport {
  readonly methods = etcdMethods();
  readonly calls: FakeCall[] = [];
  readonly delays: number[] = [];
  readonly invalidated: string[] = [];
  readonly unavailable: number[] = [];
  token: string | undefined;
  gate: Promise<void> | undefined;
  /** When set, openStream waits for it (a dial still in progress). */
  openGate: Promise<void> | undefined;
  readonly options = {
    backoff: { delaysMs: [10, 20, 40], jitter: 0 },
    random: (): number => 0.5,
    delay: async (ms: number): Promise<void> => {
      this.delays.push(ms);
      if (this.gate) await this.gate;
    },
  };

  async openStream(): Promise<OpenedStream> {
    if (this.openGate) await this.openGate;
    const call = new FakeCall();
    this.calls.push(call);
    queueMicrotask(() => this.emit('open', call));
    return { call, endpoint: 0, token: this.token };
  }
  markUnavailable(endpoint: number): void {
    this.unavailable.push(endpoint);
  }
  invalidateToken(token: string): void {
    this.invalidated.push(token);
  }
  /** The next call opened (or the latest, if it already exists beyond `seen`). */
  async nextCall(seen: number): Promise<FakeCall> {
    if (this.calls.length > seen) {
      await new Promise((r) => setImmediate(r));
      return this.calls[seen];
    }
    const [call] = (await once(this, 'open')) as [FakeCall];
    return call;
  }
}

export function grpcError(code: number, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

export function watchResponse(res: Partial<WireWatchResponse>): WireWatchResponse {
  return {
    header: { cluster_id: '1', member_id: '1', revision: '0', raft_term: '1' },
    watch_id: '0',
    created: false,
    canceled: false,
    compact_revision: '0',
    cancel_reason: '',
    fragment: false,
    events: [],
    ...res,
  };
}

export function header(revision: number): WireWatchResponse['header'] {
  return { cluster_id: '1', member_id: '1', revision: String(revision), raft_term: '1' };
}

export function event(type: 'PUT' | 'DELETE', key: string, revision: number): WireEvent {
  return {
    type,
    kv: {
      key: Buffer.from(key),
      value: Buffer.from(type === 'PUT' ? `v${revision}` : ''),
      create_revision: String(revision),
      mod_revision: String(revision),
      version: type === 'PUT' ? '1' : '0',
      lease: '0',
    },
    prev_kv: null,
  };
}
