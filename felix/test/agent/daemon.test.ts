import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@cattail/typha/client';
import { loadFelixLayers } from '../../src/config.js';
import { FelixDaemon } from '../../src/daemon.js';
import { DryRunDataplane } from '../../src/dataplane/dry-run-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { serveRoutes } from '@cattail/typha/common';
import { until } from '@cattail/datastore/testing';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import { DataplaneCommandError } from '../../src/dataplane/errors.js';
import type { Exec } from '../../src/dataplane/exec.js';
import { NODE, update, wep } from '../calc/harness.js';

/** Ports free right now (bound to port 0, then released). */
async function freePorts(n: number): Promise<number[]> {
  const eps = await Promise.all(Array.from({ length: n }, () => serveRoutes('127.0.0.1', 0, {})));
  await Promise.all(eps.map((e) => e.close()));
  return eps.map((e) => e.port);
}

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
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { reportingTTL: '2m', healthPort: 9199, logSeverityScreen: 'Debug' })], 2);
  daemon.agent.onStatus('in-sync', { revision: 2 });
  const restart = lines.filter((l) => l.msg === 'configuration changed: restart required');
  assert.deepEqual(
    restart.map((l) => l.obj.param),
    ['ReportingTTLSecs'],
  );
  assert.equal(daemon.config.LogSeverityScreen, 'Debug');
  assert.deepEqual(levels, ['Debug'], 'the log level applies without a restart');
  const applied = lines.filter((l) => l.msg === 'configuration changed').map((l) => [l.obj.param, l.obj.from, l.obj.to, l.obj.applied]);
  assert.deepEqual(applied, [
    ['HealthPort', 9099, 9199, 'server reopened'],
    ['LogSeverityScreen', 'Info', 'Debug', 'at once'],
  ]);
  assert.equal(daemon.startConfig.ReportingTTLSecs, 90);
  assert.deepEqual(daemon.status().restartRequired, ['ReportingTTLSecs']);
  // Back to the running value: no longer pending.
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { logSeverityScreen: 'Debug' })], 3);
  assert.deepEqual(daemon.status().restartRequired, []);
});

test('refresh intervals from FelixConfiguration apply at once: the shorter of route and nftables', () => {
  const intervals: number[] = [];
  const daemon = new FelixDaemon(loadFelixLayers({ NODENAME: NODE, FELIX_NFTABLESREFRESHINTERVAL: '60' }), {
    discovery: nowhere,
    dataplane: () => ({ onMessages: () => {}, setRefreshInterval: (ms) => intervals.push(ms) }),
  });
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { routeRefreshInterval: '2m', nftablesRefreshInterval: '10s' })], 2);
  daemon.agent.onStatus('in-sync', { revision: 2 });
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { routeRefreshInterval: '30s' })], 3);
  assert.deepEqual(intervals, [30_000], 'min(120 s, env 60 s) is still 60 s: no call; then min(30 s, 60 s)');
  assert.deepEqual(daemon.status().restartRequired, []);
});

test('changed spec fields the dataplane reads, or that are not honoured, are logged with what happens to them', () => {
  const lines: Line[] = [];
  const daemon = new FelixDaemon(loadFelixLayers({ NODENAME: NODE, FELIX_LOGPREFIX: 'env-prefix' }), {
    logger: recordingLogger(lines),
    discovery: nowhere,
    dataplane: () => ({ onMessages: () => {} }),
  });
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { vxlanVNI: 5000, logPrefix: 'ds-prefix', bpfEnabled: true })], 2);
  daemon.agent.onStatus('in-sync', { revision: 2 });
  const seen = lines.filter((l) => l.obj.field !== undefined).map((l) => [l.level, l.obj.field, l.obj.applied ?? l.msg]);
  assert.deepEqual(seen, [
    ['warn', 'bpfEnabled', 'FelixConfiguration field not honoured by this Felix; ignored'],
    ['info', 'logPrefix', 'no: env or config file wins'],
    ['info', 'vxlanVNI', 'next dataplane apply'],
  ]);
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

test('FelixConfiguration from Typha turns the health and metrics servers on and moves them; env still wins', async (t) => {
  const lines: Line[] = [];
  const daemon = new FelixDaemon(
    loadFelixLayers({ NODENAME: NODE, FELIX_DATAPLANEMODE: 'dry-run', FELIX_HEALTHHOST: '127.0.0.1', FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1' }),
    { discovery: pending, logger: recordingLogger(lines) },
  );
  const [p1, p2, p3] = await freePorts(3);
  assert.deepEqual(await daemon.start(), {}, 'both off by default');
  t.after(() => daemon.stop());
  daemon.agent.onUpdates(
    [
      update('FelixConfiguration', 'default', { healthEnabled: true, prometheusMetricsEnabled: true, prometheusMetricsPort: p1, healthPort: 1 }),
      update('FelixConfiguration', `node.${NODE}`, { healthPort: p2, healthHost: '0.0.0.0', prometheusMetricsHost: '0.0.0.0' }),
    ],
    3,
  );
  daemon.agent.onStatus('in-sync', { revision: 3 });
  assert.deepEqual(await daemon.serversSettled(), { healthPort: p2, metricsPort: p1 }, 'node.<node> over default, per field');
  const metrics = await fetch(`http://127.0.0.1:${p1}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /^felix_in_sync 1$/m);
  assert.equal((await fetch(`http://127.0.0.1:${p2}/readiness`)).status, 200);
  assert.equal(daemon.config.HealthHost, '127.0.0.1', 'env over node.<node>');
  assert.equal(daemon.config.PrometheusMetricsHost, '127.0.0.1');
  assert.deepEqual(daemon.status().restartRequired, []);

  // Metrics off, health to another port: the old ports close.
  daemon.agent.onUpdates(
    [
      update('FelixConfiguration', 'default', { healthEnabled: true, prometheusMetricsEnabled: false }),
      update('FelixConfiguration', `node.${NODE}`, { healthPort: p3 }),
    ],
    4,
  );
  assert.deepEqual(await daemon.serversSettled(), { healthPort: p3 });
  await assert.rejects(fetch(`http://127.0.0.1:${p1}/metrics`));
  await assert.rejects(fetch(`http://127.0.0.1:${p2}/liveness`));
  assert.equal((await fetch(`http://127.0.0.1:${p3}/liveness`)).status, 200);
  assert.ok(lines.some((l) => l.msg === 'stopped serving metrics'));
  assert.ok(lines.some((l) => l.msg === 'configuration changed' && l.obj.param === 'HealthPort' && l.obj.from === p2 && l.obj.to === p3));
});

test('a datastore port that cannot be served is logged; the server stays closed and Felix runs on', async (t) => {
  const lines: Line[] = [];
  const blocker = await serveRoutes('127.0.0.1', 0, {});
  t.after(() => blocker.close());
  const daemon = new FelixDaemon(loadFelixLayers({ NODENAME: NODE, FELIX_DATAPLANEMODE: 'dry-run', FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1' }), {
    discovery: pending,
    logger: recordingLogger(lines),
  });
  await daemon.start();
  t.after(() => daemon.stop());
  daemon.agent.onUpdates([update('FelixConfiguration', 'default', { prometheusMetricsEnabled: true, prometheusMetricsPort: blocker.port })], 2);
  daemon.agent.onStatus('in-sync', { revision: 2 });
  assert.deepEqual(await daemon.serversSettled(), {});
  const err = lines.find((l) => l.msg === 'cannot serve metrics as configured; it stays closed');
  assert.equal(err?.obj.port, blocker.port);
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

/** One sample from a Prometheus text body (undefined when the series is absent). */
function sample(body: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

test("Calico's felix_* metrics move with the dataplane: endpoints, policies, hosts, apply times, failures, resyncs", async (t) => {
  // The Linux driver with a stand-in for the kernel: every read answers "nothing there", and
  // `nft -f` fails while `failNft` is set, so an apply's failure is real to the driver.
  let failNft = false;
  const exec: Exec = async (file, args) => {
    if (file === 'nft' && args[0] === '-f' && failNft)
      throw new DataplaneCommandError([file, ...args], 'Error: Could not process rule: Operation not permitted');
    return { stdout: args.includes('-json') ? '[]' : '', stderr: '' };
  };
  const daemon = new FelixDaemon(
    loadFelixLayers({
      NODENAME: NODE,
      FELIX_DATAPLANEDEBOUNCEMS: '0',
      FELIX_MTUFILE: '',
      FELIX_PROMETHEUSMETRICSENABLED: 'true',
      FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1',
      FELIX_PROMETHEUSMETRICSPORT: '0',
    }),
    { discovery: pending, exec },
  );
  assert.ok(daemon.dataplane instanceof LinuxDataplane);
  const { metricsPort } = await daemon.start();
  t.after(() => daemon.stop());
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  let body = await scrape();
  for (const name of [
    'felix_int_dataplane_apply_time_seconds',
    'felix_int_dataplane_failures',
    'felix_active_local_endpoints',
    'felix_active_local_policies',
    'felix_ipsets_calico',
    'felix_cluster_num_hosts',
    'felix_resyncs_started',
  ]) {
    assert.match(body, new RegExp(`^# HELP ${name} \\S.*$`, 'm'), `${name} has a HELP line`);
  }
  assert.equal(sample(body, 'felix_int_dataplane_apply_time_seconds_count'), 0);
  assert.equal(sample(body, 'felix_active_local_endpoints'), 0);
  assert.equal(sample(body, 'felix_resyncs_started'), 0);

  daemon.agent.onStatus('resync', { revision: 0 });
  daemon.agent.onUpdates(
    [
      update('Node', NODE, { bgp: { ipv4Address: '192.168.0.1/24' } }),
      update('Node', 'node-2', { bgp: { ipv4Address: '192.168.0.2/24' } }),
      update('GlobalNetworkPolicy', 'allow-a', {
        tier: 'default',
        order: 1,
        selector: 'app == "a"',
        ingress: [{ action: 'Allow', source: { selector: 'app == "b"' } }],
        types: ['Ingress'],
      }),
      wep('default', 'a', { ips: ['10.0.0.1/32'], labels: { app: 'a' } }),
    ],
    4,
  );
  daemon.agent.onStatus('in-sync', { revision: 4 });
  await until(
    async () => {
      body = await scrape();
      return (sample(body, 'felix_int_dataplane_apply_time_seconds_count') ?? 0) >= 1;
    },
    () => `an apply counted:\n${body}`,
    10_000,
  );
  assert.equal(sample(body, 'felix_active_local_endpoints'), 1);
  assert.equal(sample(body, 'felix_active_local_policies'), 1);
  assert.equal(sample(body, 'felix_cluster_num_hosts'), 2);
  assert.equal(sample(body, 'felix_ipsets_calico'), 1, "the rule's source selector");
  assert.ok((sample(body, 'felix_calc_graph_output_events') ?? 0) > 0);
  assert.equal(sample(body, 'felix_resyncs_started'), 1);
  assert.ok((sample(body, 'felix_int_dataplane_apply_time_seconds_sum') ?? -1) >= 0);
  assert.equal(sample(body, 'felix_int_dataplane_failures'), 0);

  // A second endpoint whose ruleset the "kernel" refuses: the endpoint counts, and so does the failure.
  failNft = true;
  daemon.agent.onUpdates([wep('default', 'b', { ips: ['10.0.0.2/32'] })], 5);
  await until(
    async () => {
      body = await scrape();
      return (sample(body, 'felix_int_dataplane_failures') ?? 0) >= 1;
    },
    () => `a failure counted:\n${body}`,
    10_000,
  );
  assert.equal(sample(body, 'felix_active_local_endpoints'), 2);
  assert.equal(sample(body, 'felix_int_dataplane_failures_total'), sample(body, 'felix_int_dataplane_failures'), 'the older name counts the same');
  failNft = false;
});
