// Network config parsing: the lab's contract parses as written; every mistake is one CNI error
// with the spec's code and a message naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStdin, parseNetConf, checkVersion, DEFAULT_MTU_FILE } from '../src/config.js';
import { CniError } from '../src/errors.js';

const contract = {
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  type: 'cattail-cni',
  nodename: 'node-1',
  datastore_type: 'etcdv3',
  etcd_endpoints: 'http://127.0.0.1:2379',
  etcd_ca_cert_file: '',
  etcd_cert_file: '',
  etcd_key_file: '',
  mtu: 1450,
  ipam: { type: 'cattail-ipam', assign_ipv4: 'true', assign_ipv6: 'false', ipv4_pools: ['10.66.0.0/16'] },
  args: { cni: { labels: [{ key: 'app', value: 'web' }], serviceAccountName: 'default' } },
};

function fails(raw: Record<string, unknown>, code: number, pattern: RegExp, env: Record<string, string> = {}): void {
  assert.throws(
    () => parseNetConf(raw, { env, hostname: 'host-a' }),
    (err: unknown) => err instanceof CniError && err.code === code && pattern.test(err.message),
  );
}

test('the contract config parses into frozen settings', () => {
  const conf = parseNetConf(contract, { env: {}, hostname: 'ignored' });
  assert.equal(conf.cniVersion, '1.0.0');
  assert.equal(conf.nodename, 'node-1');
  assert.deepEqual(conf.etcd, { endpoints: ['http://127.0.0.1:2379'] }, 'empty TLS file names mean unset');
  assert.equal(conf.mtu, 1450);
  assert.equal(conf.mtuFile, DEFAULT_MTU_FILE);
  assert.deepEqual(conf.ipam, { type: 'cattail-ipam', assignIpv4: true, assignIpv6: false, ipv4Pools: ['10.66.0.0/16'], ipv6Pools: [] });
  assert.deepEqual(conf.labels, { app: 'web' });
  assert.equal(conf.serviceAccountName, 'default');
  assert.equal(conf.logLevel, 'info');
  assert.ok(Object.isFrozen(conf));
});

test('fallbacks: NODENAME then the host name; ETCD_ENDPOINTS; no mtu reads the MTU file; booleans as JSON too', () => {
  const { nodename: _n, etcd_endpoints: _e, mtu: _m, ...rest } = contract;
  const conf = parseNetConf(
    { ...rest, ipam: { type: 'cattail-ipam', assign_ipv6: true } },
    { env: { NODENAME: 'from-env', ETCD_ENDPOINTS: 'http://10.0.0.1:2379,http://10.0.0.2:2379' }, hostname: 'host-a' },
  );
  assert.equal(conf.nodename, 'from-env');
  assert.deepEqual(conf.etcd.endpoints, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
  assert.equal(conf.mtu, undefined);
  assert.equal(conf.ipam.assignIpv4, true);
  assert.equal(conf.ipam.assignIpv6, true);
  assert.equal(parseNetConf(rest, { env: {}, hostname: 'host-a' }).nodename, 'host-a');
});

test('the Kubernetes datastore: kubeconfig from the config, else KUBECONFIG', () => {
  const conf = parseNetConf(
    { ...contract, datastore_type: 'kubernetes', kubernetes: { kubeconfig: '/etc/cni/net.d/cattail-kubeconfig' }, policy: { type: 'k8s' } },
    { env: {} },
  );
  assert.equal(conf.datastoreType, 'kubernetes');
  assert.equal(conf.kubeconfig, '/etc/cni/net.d/cattail-kubeconfig');
  assert.equal(parseNetConf({ ...contract, datastore_type: 'kubernetes' }, { env: { KUBECONFIG: '/root/.kube/config' } }).kubeconfig, '/root/.kube/config');
});

test('invalid values are error 7 naming the key', () => {
  fails({ ...contract, ipam: { type: 'host-local' } }, 7, /ipam\.type "host-local" is not supported/);
  fails({ ...contract, ipam: undefined }, 7, /ipam is required/);
  fails({ ...contract, ipam: { type: 'cattail-ipam', assign_ipv4: 'yes' } }, 7, /ipam\.assign_ipv4 must be "true" or "false"/);
  fails({ ...contract, ipam: { type: 'cattail-ipam', assign_ipv4: 'false' } }, 7, /both false/);
  fails({ ...contract, ipam: { type: 'cattail-ipam', ipv4_pools: '10.0.0.0/8' } }, 7, /ipam\.ipv4_pools must be a list/);
  fails({ ...contract, datastore_type: 'kdd' }, 7, /datastore_type "kdd" is not supported: use "etcdv3" or "kubernetes"/);
  fails({ ...contract, datastore_type: 'kubernetes' }, 7, /needs kubernetes\.kubeconfig/);
  fails({ ...contract, policy: { type: 'calico' } }, 7, /policy\.type "calico" is not supported/);
  fails({ ...contract, mtu: 20 }, 7, /mtu must be an integer in 68\.\.65535/);
  fails({ ...contract, etcd_cert_file: '/x.crt' }, 7, /etcd_cert_file and etcd_key_file go together/);
  fails({ ...contract, etcd_endpoints: 'not a url' }, 7, /etcd_endpoints: "not a url"/);
  fails({ ...contract, name: '' }, 7, /name is required/);
  fails({ ...contract, log_level: 'loud' }, 7, /log_level "loud"/);
  fails({ ...contract, args: { cni: { labels: [{ key: '', value: 'x' }] } } }, 7, /args\.cni\.labels\[0\]/);
  fails({ ...contract, cniVersion: undefined }, 7, /cniVersion is required/);
});

test('several problems are reported together', () => {
  fails({ ...contract, mtu: 'big', ipam: { type: 'other' } }, 7, /mtu must be .*; ipam\.type "other"/);
});

test('versions: supported ones pass, others are error 1; stdin that is not a JSON object is error 6', () => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0']) assert.equal(checkVersion(v), v);
  assert.throws(
    () => checkVersion('1.1.0'),
    (err: unknown) => err instanceof CniError && err.code === 1 && /supports 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0/.test(err.message),
  );
  assert.throws(
    () => decodeStdin('{"cniVersion":'),
    (err: unknown) => err instanceof CniError && err.code === 6,
  );
  assert.throws(
    () => decodeStdin('[1]'),
    (err: unknown) => err instanceof CniError && err.code === 6,
  );
});
