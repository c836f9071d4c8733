import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, envSource, flagName, flagSource, loadConfig, redactConfig, type ParamTable } from '../src/config/params.js';

const TABLE: ParamTable = {
  ServerPort: { type: 'int', default: 5473, min: 1, max: 65535, help: 'port' },
  HealthEnabled: { type: 'bool', default: false, help: 'health' },
  LogSeverityScreen: { type: 'enum', default: 'Info', values: ['Debug', 'Info', 'Warning', 'Error', 'Fatal'], help: 'log' },
  EtcdEndpoints: { type: 'list', default: [], help: 'etcd' },
  EtcdPassword: { type: 'string', default: '', secret: true, help: 'pw' },
  ServerPingIntervalSecs: { type: 'seconds', default: 10, min: 0.1, help: 'ping' },
};

test('env names are case-insensitive and later sources win', () => {
  const env = envSource(TABLE, 'TYPHA_', { TYPHA_SERVERPORT: '6000', typha_healthenabled: 'true', OTHER: 'x', TYPHA_LOGSEVERITYSCREEN: 'debug' });
  const flags = flagSource(TABLE, ['--server-port', '7000', '--etcd-endpoints=http://a:1, http://b:2']);
  assert.deepEqual(flags.issues, []);
  const cfg = loadConfig<Record<string, unknown>>(TABLE, [env, flags.source]);
  assert.equal(cfg.ServerPort, 7000);
  assert.equal(cfg.HealthEnabled, true);
  assert.equal(cfg.LogSeverityScreen, 'Debug');
  assert.deepEqual(cfg.EtcdEndpoints, ['http://a:1', 'http://b:2']);
  assert.equal(cfg.ServerPingIntervalSecs, 10);
  assert.ok(Object.isFrozen(cfg));
});

test('every bad value is reported with its source and what is allowed', () => {
  const env = envSource(TABLE, 'TYPHA_', { TYPHA_SERVERPORT: '70000', TYPHA_HEALTHENABLED: 'maybe', TYPHA_LOGSEVERITYSCREEN: 'Loud' });
  assert.throws(
    () => loadConfig(TABLE, [env]),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues.length, 3);
      assert.match(err.message, /environment: ServerPort: 70000 is outside 1\.\.65535/);
      assert.match(err.message, /HealthEnabled: "maybe" is not a boolean/);
      assert.match(err.message, /"Loud" is not one of Debug, Info/);
      return true;
    },
  );
});

test('flags: kebab and lower-case names, bare booleans, unknown flags', () => {
  assert.equal(flagName('ServerPingIntervalSecs'), 'server-ping-interval-secs');
  assert.equal(flagName('CAFile'), 'ca-file');
  const r = flagSource(TABLE, ['--healthenabled', '--bogus', '1', 'positional']);
  assert.equal(r.source.values.HealthEnabled, 'true');
  assert.deepEqual(
    r.issues.map((i) => i.param),
    ['--bogus'],
  );
  assert.deepEqual(r.rest, ['1', 'positional']);
});

test('secrets are redacted for logging', () => {
  const cfg = loadConfig<Record<string, unknown>>(TABLE, [{ name: 'x', values: { EtcdPassword: 's3cret' } }]);
  assert.equal(redactConfig(TABLE, cfg).EtcdPassword, '<redacted>');
  assert.equal(cfg.EtcdPassword, 's3cret');
});
