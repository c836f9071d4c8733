import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEndpoint, resolveOptions } from '../../src/etcd/options.js';
import { EtcdConfigError } from '../../src/etcd/errors.js';

test('endpoints: scheme decides TLS; bare host:port uses TLS iff TLS material is given', () => {
  assert.deepEqual(parseEndpoint('http://127.0.0.1:2379', true), { url: 'http://127.0.0.1:2379', target: '127.0.0.1:2379', secure: false });
  assert.equal(parseEndpoint('https://etcd-0:2379', false).secure, true);
  assert.equal(parseEndpoint('etcd-0:2379', false).secure, false);
  assert.equal(parseEndpoint('etcd-0:2379', true).secure, true);
  assert.equal(parseEndpoint('http://[::1]:2379', false).target, '[::1]:2379');
});

test('bad endpoints are refused with a message naming them', () => {
  assert.throws(() => parseEndpoint('http://etcd-0', false), /has no port/);
  assert.throws(() => parseEndpoint('unix:///run/etcd.sock', false), /unix sockets/);
  assert.throws(() => parseEndpoint('http://etcd:2379/v3', false), EtcdConfigError);
});

test('resolveOptions fills defaults and freezes', () => {
  const o = resolveOptions({ endpoints: ['http://127.0.0.1:2379'] });
  assert.equal(o.keepaliveTimeMs, 10_000);
  assert.equal(o.keepaliveTimeoutMs, 5000);
  assert.equal(o.keepalivePermitWithoutCalls, false);
  assert.equal(o.auth, undefined);
  assert.ok(Object.isFrozen(o));
});

test('resolveOptions refuses half-given pairs and nonsense numbers', () => {
  assert.throws(
    () => resolveOptions({ endpoints: [] }),
    (e: unknown) => e instanceof EtcdConfigError && e.code === 'ETCD_CONFIG',
  );
  assert.throws(() => resolveOptions({ endpoints: ['a:1'], username: 'root' }), /username and password/);
  assert.throws(() => resolveOptions({ endpoints: ['a:1'], cert: Buffer.from('x') }), /cert and key/);
  assert.throws(() => resolveOptions({ endpoints: ['a:1'], requestTimeoutMs: 0 }), /requestTimeoutMs/);
  assert.throws(() => resolveOptions({ endpoints: ['a:1'], caFile: '/nonexistent/ca.pem' }), /cannot read caFile/);
});
