/**
 * One real etcd per test file, with a datastore and a raw client on it: started before the
 * file's first test, stopped after its last. With `wipe`, every key under that prefix is deleted
 * before each test, so tests of one file do not see each other's resources.
 */
import { after, before, beforeEach } from 'node:test';
import { startEtcd, type EtcdServer } from './etcd-server.js';
import { EtcdDatastore } from '../etcd-datastore.js';
import { EtcdClient } from '../etcd/index.js';

export interface SharedEtcd {
  etcd: EtcdServer;
  ds: EtcdDatastore;
  raw: EtcdClient;
}

export function sharedEtcd(opts: { wipe?: string } = {}): SharedEtcd {
  const fx = {} as SharedEtcd;
  before(async () => {
    fx.etcd = await startEtcd();
    fx.ds = new EtcdDatastore(fx.etcd.clientOptions());
    fx.raw = new EtcdClient(fx.etcd.clientOptions());
  });
  after(async () => {
    await fx.ds?.close();
    fx.raw?.close();
    await fx.etcd?.stop();
  });
  const wipe = opts.wipe;
  if (wipe !== undefined) beforeEach(() => fx.raw.deleteRange(wipe, { prefix: true }).then(() => undefined));
  return fx;
}
