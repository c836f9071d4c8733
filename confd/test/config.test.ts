import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@cattail/api';
import { loadConfdConfig, loggableConfdConfig } from '../src/index.js';

const REQUIRED = { NODENAME: 'node-a', FELIX_TYPHAADDR: '10.0.0.5:5473' };

test('defaults are calico/node’s paths and confd’s own ports', () => {
  const c = loadConfdConfig(REQUIRED);
  assert.equal(c.NodeName, 'node-a');
  assert.equal(c.TyphaAddr, '10.0.0.5:5473');
  assert.equal(c.BirdConfigFile, '/etc/calico/confd/config/bird.cfg');
  assert.equal(c.BirdSocket, '/var/run/calico/bird.ctl');
  assert.equal(c.HealthPort, 9097);
  assert.equal(c.PrometheusMetricsPort, 9096);
  assert.equal(c.HealthEnabled, false);
  assert.equal(c.ReconcileIntervalSecs, 30);
  assert.ok(Object.isFrozen(c));
});

test('CONFD_ names win over Calico names, flags win over both', () => {
  const env = { ...REQUIRED, CALICO_NODENAME: 'calico', CONFD_TYPHAADDR: 'typha:5473', confd_healthport: '19097' };
  const c = loadConfdConfig(env, ['--node-name=from-flag', '--debounce-ms', '5']);
  assert.equal(c.NodeName, 'from-flag');
  assert.equal(c.TyphaAddr, 'typha:5473');
  assert.equal(c.HealthPort, 19097);
  assert.equal(c.DebounceMs, 5);
  assert.equal(loadConfdConfig({ CALICO_NODENAME: 'calico', FELIX_TYPHAADDR: 'x:1' }).NodeName, 'calico');
  assert.equal(loadConfdConfig({ CALICO_NODENAME: 'calico', NODENAME: 'node', FELIX_TYPHAADDR: 'x:1' }).NodeName, 'node');
});

test('the host name is the node name of last resort', () => {
  assert.equal(loadConfdConfig({ FELIX_TYPHAADDR: 'x:1' }, [], { hostname: 'host-1' }).NodeName, 'host-1');
});

test('every bad or missing value is reported at once, naming the parameter', () => {
  assert.throws(
    () => loadConfdConfig({ CONFD_HEALTHPORT: '70000', CONFD_TYPHACERTFILE: '/c.pem' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /HealthPort: 70000 is outside 0\.\.65535/);
      return true;
    },
  );
  assert.throws(
    () => loadConfdConfig({ CONFD_TYPHACERTFILE: '/c.pem' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const params = err.issues.map((i) => i.param).sort();
      assert.deepEqual(params, ['NodeName', 'TyphaAddr', 'TyphaCertFile']);
      return true;
    },
  );
  assert.throws(() => loadConfdConfig(REQUIRED, ['--no-such-flag=1']), /unknown flag/);
});

test('the loggable config is the config (nothing confd reads is secret)', () => {
  assert.equal(loggableConfdConfig(loadConfdConfig(REQUIRED)).NodeName, 'node-a');
});

test('CALICO_ROUTER_ID is read: an IPv4 address or hash; anything else is refused', () => {
  assert.equal(loadConfdConfig(REQUIRED).RouterID, '');
  assert.equal(loadConfdConfig({ ...REQUIRED, CALICO_ROUTER_ID: 'hash' }).RouterID, 'hash');
  assert.equal(loadConfdConfig({ ...REQUIRED, CALICO_ROUTER_ID: '192.0.2.7' }).RouterID, '192.0.2.7');
  assert.throws(
    () => loadConfdConfig({ ...REQUIRED, CALICO_ROUTER_ID: 'fd00::1' }),
    (err: unknown) => err instanceof ConfigError && /RouterID.*not an IPv4 address or "hash"/s.test(err.message),
  );
});
