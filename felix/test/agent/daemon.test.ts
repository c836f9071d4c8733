import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@cattail/typha/client';
import { loadFelixLayers } from '../../src/config.js';
import { FelixDaemon } from '../../src/daemon.js';
import { DryRunDataplane } from '../../src/dataplane/dry-run-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { NODE, update, wep } from '../calc/harness.js';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recordingLogger(lines: Line[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const l: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => l };
  return l;
}

/** A discovery that never finds Typha: the test plays the client's part through daemon.agent. */
const nowhere = { endpoints: async () => [] };
/** Discovery that never answers: the client stays `connecting` and reports nothing more, so a
 * test that plays Typha's part through `daemon.agent` is not raced by the real client's retries. */
const pending = { endpoints: () => new Promise<never>(() => {}) };

test('a datastore change to a restart-only setting is logged as "restart required"; others apply', () => {
  const lines: Line[] = [];
  const levels: string[] = [];
  const daemon = new FelixDaemon(loadFelixLayers({ NODENAME: NODE, FELIX_DATAPLANEMODE: 'dry-run' }), {
    logger: recordingLogger(lines),
    discovery: nowhere,
    setLogLevel: (l) => levels.push(l),
  });
  assert.ok(daemon.dataplane instanceof DryRunDataplane);
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { healthPort: 9199, logSeverityScreen: 'Debug' })], 2);
  daemon.agent.onStatus('in-sync', { revision: 2 });
  const restart = lines.filter((l) => l.msg === 'configuration changed: restart required');
  assert.deepEqual(
    restart.map((l) => l.obj.param),
    ['HealthPort'],
  );
  assert.equal(daemon.config.LogSeverityScreen, 'Debug');
  assert.deepEqual(levels, ['Debug'], 'the log level applies without a restart');
  assert.equal(daemon.startConfig.HealthPort, 9099);
  assert.deepEqual(daemon.status().restartRequired, ['HealthPort']);
  // Back to the running value: no longer pending.
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { logSeverityScreen: 'Debug' })], 3);
  assert.deepEqual(daemon.status().restartRequired, []);
});

test('env wins over FelixConfiguration: no restart is asked for a value env pins', () => {
  const lines: Line[] = [];
  const daemon = new FelixDaemon(loadFelixLayers({ NODENAME: NODE, FELIX_DATAPLANEMODE: 'dry-run' }), { logger: recordingLogger(lines), discovery: nowhere });
  daemon.agent.onUpdates([update('FelixConfiguration', `node.${NODE}`, { dataplaneMode: 'linux' })], 2);
  daemon.agent.onStatus('in-sync', { revision: 2 });
  assert.equal(daemon.config.DataplaneMode, 'dry-run');
  assert.equal(lines.filter((l) => l.msg?.includes('restart required')).length, 0);
});

test('health, readiness, status and metrics follow the agent', async (t) => {
  const daemon = new FelixDaemon(
    loadFelixLayers({
      NODENAME: NODE,
      FELIX_DATAPLANEMODE: 'dry-run',
      FELIX_HEALTHENABLED: 'true',
      FELIX_HEALTHHOST: '127.0.0.1',
      FELIX_HEALTHPORT: '0',
      FELIX_PROMETHEUSMETRICSENABLED: 'true',
      FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1',
      FELIX_PROMETHEUSMETRICSPORT: '0',
    }),
    { discovery: pending },
  );
  const ports = await daemon.start();
  t.after(() => daemon.stop());
  const get = async (port: number | undefined, path: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, body: await r.text() };
  };
  assert.equal((await get(ports.healthPort, '/liveness')).status, 200);
  assert.equal((await get(ports.healthPort, '/readiness')).status, 503);
  daemon.agent.onUpdates([wep('default', 'a', { ips: ['10.0.0.1/32'] })], 4);
  daemon.agent.onStatus('in-sync', { revision: 4 });
  assert.equal((await get(ports.healthPort, '/readiness')).status, 200);
  const status = JSON.parse((await get(ports.healthPort, '/status')).body) as { inSync: boolean; dataplaneMode: string };
  assert.equal(status.inSync, true);
  assert.equal(status.dataplaneMode, 'dry-run');
  const metrics = (await get(ports.metricsPort, '/metrics')).body;
  assert.match(metrics, /^felix_in_sync 1$/m);
  assert.match(metrics, /^felix_datastore_revision 4$/m);
  assert.ok((daemon.dataplane as DryRunDataplane).snapshot(), 'the dry-run dataplane computed a snapshot');
});

test('the dataplane gets the FelixConfiguration with env values laid over it', () => {
  const batches: DataplaneMessage[][] = [];
  const daemon = new FelixDaemon(loadFelixLayers({ NODENAME: NODE, FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Return' }), {
    discovery: nowhere,
    dataplane: () => ({ onMessages: (m) => batches.push(m) }),
  });
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { defaultEndpointToHostAction: 'Accept', logPrefix: 'x' })], 2);
  daemon.agent.onStatus('in-sync', { revision: 2 });
  const cfg = batches.flat().find((m) => m.kind === 'ConfigUpdate');
  assert.ok(cfg && cfg.kind === 'ConfigUpdate');
  assert.deepEqual(cfg.config, { defaultEndpointToHostAction: 'Return', logPrefix: 'x' });
});
