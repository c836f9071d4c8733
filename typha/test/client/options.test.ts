import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientConfigError, SyncClient, staticDiscovery, type SyncClientOptions } from '../../src/client/index.js';

const ok: SyncClientOptions = {
  syncer: 'felix',
  node: 'node-1',
  discovery: staticDiscovery(['127.0.0.1:5473']),
  callbacks: { onStatus() {}, onUpdates() {} },
};

describe('SyncClient options', () => {
  const bad: Array<[string, Partial<SyncClientOptions> | Record<string, unknown>, RegExp]> = [
    ['unknown syncer', { syncer: 'calc' }, /syncer "calc" is not one of felix, bgp, ipam, status/],
    ['empty node', { node: '' }, /node must be a non-empty name/],
    ['no discovery', { discovery: undefined }, /discovery is required/],
    ['no callbacks', { callbacks: { onStatus() {} } }, /callbacks must have onStatus and onUpdates/],
    ['unknown codec', { codec: 'cbor' }, /codec "cbor" is not msgpack or json/],
    ['ping not below read timeout', { readTimeoutMs: 1000, pingIntervalMs: 1000 }, /pingIntervalMs \(1000\) must be below readTimeoutMs \(1000\)/],
    ['negative handshake timeout', { handshakeTimeoutMs: -1 }, /handshakeTimeoutMs must be a positive number/],
    ['cert without key', { tls: { cert: 'PEM' } }, /tls.cert and tls.key go together/],
    ['empty backoff', { backoff: { delaysMs: [], jitter: 0, maxMs: 0 } }, /backoff.delaysMs must be a non-empty list/],
    ['jitter above 1', { backoff: { delaysMs: [1], jitter: 2, maxMs: 10 } }, /jitter 2 is outside 0..1/],
  ];
  for (const [name, patch, message] of bad) {
    it(`rejects ${name} in the constructor`, () => {
      assert.throws(
        () => new SyncClient({ ...ok, ...patch }),
        (err: unknown) => {
          assert.ok(err instanceof ClientConfigError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('starts idle with nothing known', () => {
    const c = new SyncClient(ok);
    assert.equal(c.state, 'idle');
    assert.equal(c.revision, 0);
    assert.equal(c.connectedTo, undefined);
    assert.equal(c.resumePoint, undefined);
    assert.deepEqual(c.snapshot(), []);
  });
});
