// The daemon's kept connections: one per datastore config, shared by concurrent calls, dropped
// (and closed by its last user) when a call says it is broken, never remembered when it fails to
// open, closed at closeAll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Datastore } from '@cattail/datastore';
import { ConflictError, KubeHttpError, UnavailableError } from '@cattail/datastore/errors';
import { parseNetConf, type NetConf } from '../src/config.js';
import { TryAgainLaterError } from '../src/errors.js';
import { WarmDatastores, isBrokenConnection } from '../src/warm-datastores.js';

function conf(endpoints: string): NetConf {
  return parseNetConf(
    { cniVersion: '1.0.0', name: 'net', type: 'cattail-cni', nodename: 'n', etcd_endpoints: endpoints, ipam: { type: 'cattail-ipam' } },
    { env: {}, hostname: 'n' },
  );
}

function fakeOpener(fail = 0) {
  const opened: Array<{ endpoints: string; closed: boolean }> = [];
  let failures = fail;
  return {
    opened,
    open: (c: NetConf): Datastore => {
      if (failures-- > 0) throw new UnavailableError('etcd is down');
      const rec = { endpoints: c.etcd.endpoints.join(','), closed: false };
      opened.push(rec);
      return {
        close: async () => {
          rec.closed = true;
        },
      } as unknown as Datastore;
    },
  };
}

test('one connection per datastore config, shared and kept across calls', async () => {
  const f = fakeOpener();
  const warm = new WarmDatastores(f.open);
  const [a, b] = await Promise.all([warm.open(conf('http://e1:2379')), warm.open(conf('http://e1:2379'))]);
  assert.equal(a, b);
  await warm.release(a, undefined);
  await warm.release(b, new ConflictError({ kind: 'IPAMBlock', name: 'b' }, '1', '2'));
  const c = await warm.open(conf('http://e2:2379'));
  assert.notEqual(c, a);
  assert.deepEqual(
    f.opened.map((o) => [o.endpoints, o.closed]),
    [
      ['http://e1:2379', false],
      ['http://e2:2379', false],
    ],
  );
  assert.equal(warm.size, 2);
  await warm.release(c, undefined);
  await warm.closeAll();
  assert.ok(f.opened.every((o) => o.closed));
});

test('a broken connection is dropped at once and closed by its last user; the next call reopens', async () => {
  const f = fakeOpener();
  const warm = new WarmDatastores(f.open);
  const [a, b] = await Promise.all([warm.open(conf('http://e1:2379')), warm.open(conf('http://e1:2379'))]);
  await warm.release(a, new TryAgainLaterError('unreachable', { cause: new UnavailableError('etcd is down') }));
  assert.equal(warm.size, 0, 'no longer handed out');
  assert.equal(f.opened[0].closed, false, 'still in use by the other call');
  const fresh = await warm.open(conf('http://e1:2379'));
  assert.notEqual(fresh, a);
  await warm.release(b, undefined);
  assert.equal(f.opened[0].closed, true);
  assert.equal(f.opened[1].closed, false);
  await warm.release(fresh, undefined);
  await warm.closeAll();
});

test('an open that fails is not remembered', async () => {
  const f = fakeOpener(1);
  const warm = new WarmDatastores(f.open);
  await assert.rejects(warm.open(conf('http://e1:2379')), UnavailableError);
  assert.equal(warm.size, 0);
  const ds = await warm.open(conf('http://e1:2379'));
  assert.equal(f.opened.length, 1);
  await warm.release(ds, undefined);
  await warm.closeAll();
});

test('which failures mean the connection is broken', () => {
  assert.equal(isBrokenConnection(new UnavailableError('down')), true);
  assert.equal(isBrokenConnection(new TryAgainLaterError('x', { cause: new UnavailableError('down') })), true);
  assert.equal(isBrokenConnection(new KubeHttpError(401, { reason: 'Unauthorized' })), true);
  assert.equal(isBrokenConnection(new KubeHttpError(409, { reason: 'Conflict' })), false);
  assert.equal(isBrokenConnection(new ConflictError({ kind: 'IPAMBlock', name: 'b' }, '1', '2')), false);
  assert.equal(isBrokenConnection(undefined), false);
});

test('retireKubeconfig: connections from that kubeconfig reopen on the next call, the one in use closes at its release; others stay', async () => {
  const opened: Array<{ where: string; closed: boolean }> = [];
  const warm = new WarmDatastores((c: NetConf): Datastore => {
    const rec = { where: c.datastoreType === 'kubernetes' ? c.kubeconfig : c.etcd.endpoints.join(','), closed: false };
    opened.push(rec);
    return { close: async () => void (rec.closed = true) } as unknown as Datastore;
  });
  const kdd = (kubeconfig: string) =>
    parseNetConf(
      {
        cniVersion: '1.0.0',
        name: 'net',
        type: 'cattail-cni',
        nodename: 'n',
        datastore_type: 'kubernetes',
        kubernetes: { kubeconfig },
        ipam: { type: 'cattail-ipam' },
      },
      { env: {}, hostname: 'n' },
    );
  const idle = await warm.open(kdd('/etc/cni/net.d/cattail-kubeconfig'));
  await warm.release(idle, undefined);
  const other = await warm.open(conf('http://e1:2379'));
  await warm.release(other, undefined);
  const inUse = await warm.open(kdd('/etc/cni/net.d/cattail-kubeconfig'));
  assert.equal(inUse, idle);

  await warm.retireKubeconfig('/etc/cni/net.d/cattail-kubeconfig');
  assert.deepEqual(
    opened.map((o) => o.closed),
    [false, false],
    'the connection in use is not closed under its call',
  );
  const fresh = await warm.open(kdd('/etc/cni/net.d/cattail-kubeconfig'));
  assert.notEqual(fresh, inUse, 'the next call reads the kubeconfig again');
  await warm.release(inUse, undefined);
  assert.deepEqual(
    opened.map((o) => [o.where, o.closed]),
    [
      ['/etc/cni/net.d/cattail-kubeconfig', true],
      ['http://e1:2379', false],
      ['/etc/cni/net.d/cattail-kubeconfig', false],
    ],
  );
  assert.equal(warm.size, 2);
  await warm.release(fresh, undefined);
  await warm.closeAll();
});
