/**
 * Login and TLS against a real etcd: user root + role root with `auth enable`, wrong and
 * missing credentials, re-login after etcd forgets our token (for calls and for a watch), and
 * client-certificate TLS.
 *
 * How a token is made stale on purpose: `auth disable` drops every simple token etcd holds
 * and `auth enable` turns checking back on, so the client's cached token is now unknown. (A
 * restart would not do: etcd replays the logins from its WAL and the tokens come back.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, type EtcdError } from '../../src/etcd/index.js';
import { startEtcd, startTcpProxy, type EtcdServer } from '../../src/testing/index.js';
import { Collector, gatedDelay } from '../etcd/collector.js';

describe('auth', () => {
  let server: EtcdServer;
  let admin: EtcdClient;

  before(async () => {
    server = await startEtcd({ auth: { password: 'root-secret' } });
    admin = new EtcdClient(server.clientOptions());
  });

  after(async () => {
    admin?.close();
    await server?.stop();
  });

  async function forgetTokens(): Promise<void> {
    await server.etcdctl('auth', 'disable');
    await server.etcdctl('auth', 'enable');
  }

  test('the right username and password can read and write', async () => {
    assert.deepEqual(server.auth, { username: 'root', password: 'root-secret' });
    const put = await admin.put('/s/a', 'x');
    assert.equal((await admin.get('/s/a'))?.modRevision, put.revision);
  });

  test('a wrong password fails with ETCD_AUTH_FAILED', async () => {
    const bad = new EtcdClient({ endpoints: server.endpoints, username: 'root', password: 'wrong' });
    try {
      await assert.rejects(bad.put('/s/b', 'x'), (e: EtcdError) => {
        assert.equal(e.code, 'ETCD_AUTH_FAILED');
        assert.match(e.message, /invalid user ID or password/);
        return true;
      });
      await assert.rejects(bad.range('/s/a'), (e: EtcdError) => e.code === 'ETCD_AUTH_FAILED');
    } finally {
      bad.close();
    }
    assert.equal(await admin.get('/s/b'), undefined);
  });

  test('no credentials at all fails with ETCD_AUTH_FAILED saying a login is needed', async () => {
    const anonymous = new EtcdClient({ endpoints: server.endpoints });
    try {
      await assert.rejects(anonymous.put('/s/c', 'x'), (e: EtcdError) => e.code === 'ETCD_AUTH_FAILED' && /requires login/.test(e.message));
    } finally {
      anonymous.close();
    }
  });

  test('a call with a token etcd no longer knows logs in again and succeeds', async () => {
    const c = new EtcdClient(server.clientOptions());
    try {
      await c.put('/s/relogin', '1');
      await forgetTokens();
      // Without re-login this fails with "invalid auth token".
      const put = await c.put('/s/relogin', '2');
      assert.equal((await admin.get('/s/relogin'))?.modRevision, put.revision);
      assert.equal((await c.get('/s/relogin'))?.value.toString(), '2');
    } finally {
      c.close();
    }
  });

  test('a watch whose token went stale while it was disconnected logs in again and resumes exactly', async () => {
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(server.clientUrl).port));
    const gate = gatedDelay();
    const watcher = new EtcdClient({
      endpoints: [`http://127.0.0.1:${proxy.port}`],
      username: 'root',
      password: 'root-secret',
      delay: gate.delay,
    });
    const sink = new Collector();
    const expected: string[] = [];
    const start = (await admin.status()).revision + 1;
    const w = watcher.watch({ key: '/s/w/', prefix: true, startRevision: start }, sink);
    try {
      await sink.waitFor(() => sink.count('connected') === 1, 'connected');
      for (let i = 0; i < 10; i++) expected.push(`put /s/w/${i} ${(await admin.put(`/s/w/${i}`, 'v')).revision}`);
      await sink.waitFor(() => sink.events.length === 10, 'first events');

      gate.hold();
      proxy.cutAll();
      await sink.waitFor(() => sink.count('reconnecting') === 1, 'disconnect');
      await forgetTokens();
      for (let i = 10; i < 30; i++) expected.push(`put /s/w/${i} ${(await admin.put(`/s/w/${i}`, 'v')).revision}`);
      gate.release();

      await sink.waitFor(() => sink.events.length >= expected.length, 'events after re-login');
      assert.deepEqual(sink.lines(), expected);
      assert.deepEqual(sink.errors, []);
      // The stale token was refused once (a canceled create), then a fresh login was accepted.
      assert.ok(sink.count('reconnecting') >= 2, `statuses: ${sink.statuses.join(',')}`);
    } finally {
      w.close();
      watcher.close();
      await proxy.close();
    }
  });
});

describe('tls', () => {
  let server: EtcdServer;

  before(async () => {
    server = await startEtcd({ tls: true });
  });

  after(async () => {
    await server?.stop();
  });

  test('a client with the CA and a client certificate talks over https', async () => {
    assert.match(server.clientUrl, /^https:\/\//);
    const c = new EtcdClient(server.clientOptions());
    try {
      const put = await c.put('/tls/a', 'secure');
      assert.equal((await c.get('/tls/a'))?.modRevision, put.revision);
    } finally {
      c.close();
    }
  });

  test('TLS material can be given as file paths', async () => {
    const tls = server.tls!;
    const c = new EtcdClient({
      endpoints: server.endpoints,
      caFile: tls.caFile,
      certFile: tls.clientCertFile,
      keyFile: tls.clientKeyFile,
    });
    try {
      assert.equal((await c.get('/tls/a'))?.value.toString(), 'secure');
    } finally {
      c.close();
    }
  });

  test('without a client certificate the handshake is refused: ETCD_UNAVAILABLE', async () => {
    const c = new EtcdClient({ endpoints: server.endpoints, ca: server.tls!.ca, dialTimeoutMs: 1000 });
    try {
      await assert.rejects(c.status(), (e: EtcdError) => e.code === 'ETCD_UNAVAILABLE');
    } finally {
      c.close();
    }
  });

  test('plain http to a TLS port does not connect: ETCD_UNAVAILABLE', async () => {
    const c = new EtcdClient({ endpoints: [server.clientUrl.replace('https://', 'http://')], dialTimeoutMs: 1000 });
    try {
      await assert.rejects(c.status(), (e: EtcdError) => e.code === 'ETCD_UNAVAILABLE');
    } finally {
      c.close();
    }
  });
});
