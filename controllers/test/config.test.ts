import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@cattail/api';
import { loadKubeControllersConfig } from '../src/config.js';

test('defaults are calico-kube-controllers’ on the Kubernetes datastore: the node controller, leader-elected in kube-system', () => {
  const c = loadKubeControllersConfig({});
  assert.equal(c.DatastoreType, 'kubernetes');
  assert.deepEqual(c.EnabledControllers, ['node']);
  assert.equal(c.LeaseNamespace, 'kube-system');
  assert.equal(c.LeaseName, 'cattail-kube-controllers');
  assert.equal(c.LeaseDurationSecs, 15);
  assert.equal(c.LogSeverityScreen, 'Info');
  assert.ok(Object.isFrozen(c));
});

test('Calico’s variable names are read, flags win', () => {
  const c = loadKubeControllersConfig({ KUBECONFIG: '/k', LOG_LEVEL: 'debug', ENABLED_CONTROLLERS: 'node', LEAK_GRACE_PERIOD: '30s' }, [
    '--log-severity-screen=warning',
  ]);
  assert.equal(c.Kubeconfig, '/k');
  assert.equal(c.LogSeverityScreen, 'Warning');
  assert.equal(c.LeakGracePeriod, '30s');
});

test('every problem is reported at once, saying what does not apply', () => {
  assert.throws(
    () =>
      loadKubeControllersConfig({
        ENABLED_CONTROLLERS: 'node,policy,bogus',
        LEAK_GRACE_PERIOD: '15',
        LEADER_ELECTION_LEASE_DURATION: '5',
        LEADER_ELECTION_RENEW_DEADLINE: '6',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /"policy" does not apply to the Kubernetes datastore/);
      assert.match(err.message, /"bogus" is not a controller/);
      assert.match(err.message, /LeakGracePeriod: "15" is not a duration/);
      assert.match(err.message, /RenewDeadlineSecs: must be below LeaseDurationSecs/);
      return true;
    },
  );
});

test('etcd mode: the sync controllers run by default, beside the node controller', () => {
  const c = loadKubeControllersConfig({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://10.0.0.1:2379' });
  assert.deepEqual(c.EnabledControllers, ['node', 'namespace', 'serviceaccount', 'policy', 'workloadendpoint']);
  assert.deepEqual(c.EtcdEndpoints, ['http://10.0.0.1:2379']);
});
