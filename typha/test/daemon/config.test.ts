import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@cattail/api';
import { loadTyphaConfig } from '../../src/config.js';

test('Calico names and defaults; env then flags', () => {
  const c = loadTyphaConfig({ TYPHA_SERVERPORT: '6000', typha_etcdendpoints: 'http://e1:2379,http://e2:2379', TYPHA_HEALTHENABLED: 'true' }, [
    '--server-port=7000',
  ]);
  assert.equal(c.ServerPort, 7000);
  assert.deepEqual(c.EtcdEndpoints, ['http://e1:2379', 'http://e2:2379']);
  assert.equal(c.HealthEnabled, true);
  assert.equal(c.HealthPort, 9098);
  assert.equal(c.PrometheusMetricsPort, 9093);
  assert.equal(c.MaxConnectionsUpperLimit, 10000);
  assert.equal(c.ShutdownTimeoutSecs, 300);
  assert.equal(c.MaxConnectionsPerSource, 1000);
  assert.equal(c.MaxPendingHandshakes, 2000);
  assert.equal(c.ServerUpgradeTimeoutSecs, 10);
  assert.equal(c.BGPSyncerWorkloadEndpoints, false, 'opt-in: pod churn reaches confd only when asked');
  assert.equal(loadTyphaConfig({ TYPHA_BGPSYNCERWORKLOADENDPOINTS: 'true' }).BGPSyncerWorkloadEndpoints, true);
  assert.equal(loadTyphaConfig({ TYPHA_MAXCONNECTIONSPERSOURCE: '0' }).MaxConnectionsPerSource, 0, '0: no limit');
  const kdd = loadTyphaConfig({ TYPHA_DATASTORETYPE: 'kubernetes', TYPHA_KUBECONFIG: '/k/config' });
  assert.equal(kdd.DatastoreType, 'kubernetes');
  assert.equal(kdd.Kubeconfig, '/k/config');
  assert.equal(kdd.ConnectionRebalancingMode, 'auto');
});

test('bad values are refused with the parameter and what is allowed', () => {
  const bad: Array<[Record<string, string>, string[], RegExp]> = [
    [{ TYPHA_SERVERPORT: 'x' }, [], /ServerPort: "x" is not an integer/],
    [{ TYPHA_HEALTHPORT: '70000' }, [], /HealthPort: 70000 is outside 0\.\.65535/],
    [{ TYPHA_MAXPENDINGHANDSHAKES: '-1' }, [], /MaxPendingHandshakes: -1 is outside 0\.\.1000000/],
    [{ TYPHA_LOGSEVERITYSCREEN: 'loud' }, [], /LogSeverityScreen: "loud" is not one of/],
    [{ TYPHA_DATASTORETYPE: 'kube' }, [], /DatastoreType: "kube" is not one of/],
    [{ TYPHA_DATASTORETYPE: 'kubernetes', TYPHA_CONNECTIONREBALANCINGMODE: 'etcd' }, [], /mode etcd needs DatastoreType=etcdv3/],
    [{ TYPHA_CONNECTIONREBALANCINGMODE: 'kubernetes' }, [], /mode kubernetes needs DatastoreType=kubernetes/],
    [{ TYPHA_SERVERCERTFILE: '/x.crt' }, [], /go together/],
    [{ TYPHA_CAFILE: '/ca', TYPHA_SERVERCERTFILE: '/c', TYPHA_SERVERKEYFILE: '/k' }, [], /ClientCN or ClientURISAN/],
    [{}, ['--no-such-flag=1'], /unknown flag/],
  ];
  for (const [env, argv, re] of bad) {
    assert.throws(
      () => loadTyphaConfig(env, argv),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(env),
    );
  }
});

test("Calico's server knobs: grace period, batching age (the same window as ServerBatchWindowMs), message size", () => {
  const d = loadTyphaConfig({});
  assert.equal(d.ServerNewClientFallBehindGracePeriod, 300);
  assert.equal(d.ServerMaxFallBehindSecs, 300);
  assert.equal(d.ServerBatchWindowMs, 10);
  const c = loadTyphaConfig({
    TYPHA_SERVERMINBATCHINGAGETHRESHOLDSECS: '0.025',
    TYPHA_SERVERNEWCLIENTFALLBEHINDGRACEPERIOD: '45',
    TYPHA_SERVERMAXFALLBEHINDSECS: '30',
    TYPHA_SERVERPINGINTERVALSECS: '5',
    TYPHA_SERVERPONGTIMEOUTSECS: '40',
    TYPHA_SERVERHANDSHAKETIMEOUTSECS: '7',
    TYPHA_SERVERMAXMESSAGESIZE: '100',
  });
  assert.equal(c.ServerBatchWindowMs, 25, 'the Calico name sets the batching window');
  assert.equal(c.ServerNewClientFallBehindGracePeriod, 45);
  assert.equal(c.ServerMaxFallBehindSecs, 30);
  assert.equal(c.ServerPingIntervalSecs, 5);
  assert.equal(c.ServerPongTimeoutSecs, 40);
  assert.equal(c.ServerHandshakeTimeoutSecs, 7);
  assert.equal(c.ServerMaxMessageSize, 100);
  assert.equal(loadTyphaConfig({ TYPHA_SERVERBATCHWINDOWMS: '5' }).ServerBatchWindowMs, 5);
  assert.equal(loadTyphaConfig({ TYPHA_SERVERBATCHWINDOWMS: '20', TYPHA_SERVERMINBATCHINGAGETHRESHOLDSECS: '0.02' }).ServerBatchWindowMs, 20, 'both, agreeing');
  assert.throws(
    () => loadTyphaConfig({ TYPHA_SERVERBATCHWINDOWMS: '5' }, ['--server-min-batching-age-threshold-secs=0.1']),
    (e: unknown) => e instanceof ConfigError && /ServerBatchWindowMs, which says 5 ms, not 100 ms: give one/.test(e.message),
  );
  assert.throws(
    () => loadTyphaConfig({ TYPHA_SERVERNEWCLIENTFALLBEHINDGRACEPERIOD: '-1' }),
    (e: unknown) => e instanceof ConfigError && /ServerNewClientFallBehindGracePeriod: -1 is outside 0\.\.86400/.test(e.message),
  );
});
