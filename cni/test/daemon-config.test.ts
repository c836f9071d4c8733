// `cattail cni-daemon`'s settings: defaults, CATTAIL_CNI_DAEMON_SOCKET below CNI_DAEMON_* below flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@cattail/api';
import { loadCniDaemonConfig } from '../src/daemon-config.js';

test('defaults: the standard socket, health and metrics off', () => {
  const c = loadCniDaemonConfig({});
  assert.equal(c.Socket, '/var/run/cattail/cni.sock');
  assert.equal(c.HealthEnabled, false);
  assert.equal(c.PrometheusMetricsEnabled, false);
  assert.ok(Object.isFrozen(c));
});

test('the socket: the shim’s variable, then CNI_DAEMON_SOCKET, then --socket', () => {
  assert.equal(loadCniDaemonConfig({ CATTAIL_CNI_DAEMON_SOCKET: '/run/a.sock' }).Socket, '/run/a.sock');
  assert.equal(loadCniDaemonConfig({ CATTAIL_CNI_DAEMON_SOCKET: '/run/a.sock', CNI_DAEMON_SOCKET: '/run/b.sock' }).Socket, '/run/b.sock');
  assert.equal(loadCniDaemonConfig({ CNI_DAEMON_SOCKET: '/run/b.sock' }, ['--socket=/run/c.sock']).Socket, '/run/c.sock');
  const health = loadCniDaemonConfig({ CNI_DAEMON_HEALTHENABLED: 'true', CNI_DAEMON_HEALTHPORT: '9189' });
  assert.deepEqual([health.HealthEnabled, health.HealthPort], [true, 9189]);
});

test('bad values are refused, each named', () => {
  assert.throws(
    () => loadCniDaemonConfig({}, ['--socket=relative.sock']),
    (e: unknown) => e instanceof ConfigError && /absolute path/.test(e.message),
  );
  assert.throws(() => loadCniDaemonConfig({ CNI_DAEMON_HEALTHPORT: '70000' }), ConfigError);
  assert.throws(() => loadCniDaemonConfig({}, ['--nonsense=1']), ConfigError);
  assert.throws(() => loadCniDaemonConfig({}, ['stray']), ConfigError);
});
