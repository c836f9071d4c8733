/**
 * One real etcd and one temp directory (the binary's cwd) per test file: started before the
 * file's first test, removed after its last. `env()` points the binary at that etcd;
 * `revision()` is etcd's current revision, which any write moves, so "nothing was written" is
 * an equality.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startEtcd, type EtcdServer } from '@cattail/datastore/testing';

export interface CliEtcdFixture {
  etcd: EtcdServer;
  dir: string;
  env(): NodeJS.ProcessEnv;
  revision(): Promise<number>;
}

export function cliEtcdFixture(): CliEtcdFixture {
  const fx: CliEtcdFixture = {
    etcd: undefined as unknown as EtcdServer,
    dir: '',
    env: () => ({ ETCD_ENDPOINTS: fx.etcd.endpoints.join(',') }),
    revision: async () => {
      const out = JSON.parse(await fx.etcd.etcdctl('get', '', '--from-key', '--keys-only', '-w', 'json')) as { header: { revision: number } };
      return out.header.revision;
    },
  };
  before(async () => {
    fx.etcd = await startEtcd();
    fx.dir = await mkdtemp(join(tmpdir(), 'cattail-cli-it-'));
  });
  after(async () => {
    await fx.etcd?.stop();
    if (fx.dir) await rm(fx.dir, { recursive: true, force: true });
  });
  return fx;
}
