import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SyncCache } from '../../src/cache/sync-cache.js';
import { CODECS } from '../../src/protocol/index.js';
import { SERVER_LIMITS, ServerOptionError, SyncServer, resolveServerOptions, type SyncServerOptions } from '../../src/server/index.js';

const base = (): SyncServerOptions => ({ caches: { felix: new SyncCache({ syncer: 'felix' }) }, serverId: 's', datastoreId: () => 'd' });

test('options get their defaults and are frozen', () => {
  const o = resolveServerOptions(base());
  assert.equal(o.maxConnections, SERVER_LIMITS.maxConnections.default);
  assert.equal(o.port, 5473);
  assert.equal(o.maxFrameBytes, 64 * 1024);
  assert.ok(Object.isFrozen(o));
});

test('each bad option is refused with a message naming it', () => {
  const bad: Array<[Partial<SyncServerOptions> & Record<string, unknown>, RegExp]> = [
    [{ maxConnections: -1 }, /maxConnections: -1 is not an integer in 0\.\.1000000/],
    [{ pingIntervalMs: 1.5 }, /pingIntervalMs: 1.5 is not an integer/],
    [{ pingIntervalMs: 5000, pongTimeoutMs: 5000 }, /pongTimeoutMs: 5000 must exceed pingIntervalMs \(5000\)/],
    [{ caches: {} }, /at least one syncer cache/],
    [{ caches: { bogus: new SyncCache({ syncer: 'felix' }) } as never }, /unknown syncer type "bogus"/],
    [{ serverId: '' }, /serverId/],
    [{ port: 70000 }, /port: 70000/],
    [{ codecs: {} }, /at least one codec/],
    [{ codecs: { json: CODECS.msgpack } }, /"json" must be a codec named "json"/],
    [{ tls: { cert: 'c', key: 'k', clientCN: 'x' } }, /clientCN\/clientURISAN need tls\.ca/],
    [{ tls: { cert: 'c', key: '' } }, /cert and key are both required/],
  ];
  for (const [o, re] of bad) {
    assert.throws(
      () => resolveServerOptions({ ...base(), ...o }),
      (err: unknown) => err instanceof ServerOptionError && err.code === 'TYPHA_SERVER_BAD_OPTION' && re.test(err.message),
      String(re),
    );
  }
});

test('publisher() is one stable function per syncer; unknown syncers are refused', () => {
  const s = new SyncServer(base());
  assert.equal(s.publisher('felix'), s.publisher('felix'));
  assert.throws(() => s.publisher('bgp'), /syncer "bgp" has no cache on this server/);
});
