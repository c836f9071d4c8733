// agentSyncClient: an agent's Typha settings become a SyncClient, or a ClientConfigError at
// start that names the setting (never a failure later, on the first connect).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientConfigError, agentSyncClient, staticDiscovery, type AgentTyphaConfig, type ClientCallbacks } from '../../src/client/index.js';

const NONE: AgentTyphaConfig = {
  TyphaAddr: '',
  TyphaK8sServiceName: '',
  TyphaK8sNamespace: 'kube-system',
  TyphaCAFile: '',
  TyphaCertFile: '',
  TyphaKeyFile: '',
  TyphaCN: '',
  TyphaURISAN: '',
};
const callbacks: ClientCallbacks = { onStatus: () => {}, onUpdates: () => {} };
const options = { node: 'node-1', clientId: 'test/0', readTimeoutMs: 30_000 };

test('an address list makes an idle client; a test may replace the discovery', async () => {
  const a = agentSyncClient({ ...NONE, TyphaAddr: '127.0.0.1:5473' }, 'felix', callbacks, options);
  assert.equal(a.state, 'idle');
  await a.close();
  const b = agentSyncClient(NONE, 'bgp', callbacks, { ...options, discovery: staticDiscovery(['127.0.0.1:5473']) });
  assert.equal(b.state, 'idle');
  await b.close();
});

test('no way to find Typha, or an unreadable TLS file, is a ClientConfigError at start', () => {
  assert.throws(
    () => agentSyncClient(NONE, 'felix', callbacks, options),
    (err: unknown) => err instanceof ClientConfigError && /no way to find Typha/.test(err.message),
  );
  assert.throws(
    () => agentSyncClient({ ...NONE, TyphaAddr: '127.0.0.1:5473', TyphaCAFile: '/nonexistent/ca.crt' }, 'felix', callbacks, options),
    (err: unknown) =>
      err instanceof ClientConfigError && err.code === 'TYPHA_CLIENT_CONFIG' && err.message === 'cannot read TyphaCAFile /nonexistent/ca.crt: ENOENT',
  );
});
