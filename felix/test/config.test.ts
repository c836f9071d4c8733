import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@cattail/api';
import { FelixAgent } from '../src/agent/felix-agent.js';
import { changedParams, dataplaneConfig, parseFailsafePorts, loadFelixConfig, loadFelixLayers, parseConfigFile, resolveFelixConfig } from '../src/config.js';
import { update } from './calc/harness.js';

test('node name: FELIX_FELIXHOSTNAME, else NODENAME, else the host name', () => {
  const T = { FELIX_TYPHAADDR: 't:5473' };
  assert.equal(loadFelixConfig({ ...T, FELIX_FELIXHOSTNAME: 'a', NODENAME: 'b' }, { hostname: 'h' }).config.FelixHostname, 'a');
  assert.equal(loadFelixConfig({ ...T, NODENAME: 'b' }, { hostname: 'h' }).config.FelixHostname, 'b');
  assert.equal(loadFelixConfig({ ...T }, { hostname: 'h' }).config.FelixHostname, 'h');
  assert.throws(() => loadFelixConfig({ ...T }), ConfigError);
});

test('the command needs a way to find Typha: an address or a Kubernetes Service', () => {
  assert.throws(() => loadFelixConfig({ NODENAME: 'n' }), /TyphaAddr: is required/);
  assert.equal(loadFelixConfig({ NODENAME: 'n', FELIX_TYPHAK8SSERVICENAME: 'calico-typha' }).config.TyphaK8sNamespace, 'kube-system');
});

test('defaults match Calico’s ports; env is case-insensitive; ETCD_ENDPOINTS is read below FELIX_ETCDENDPOINTS', () => {
  const { config } = loadFelixConfig({ felix_typhaaddr: '10.0.0.5:5473', NODENAME: 'n' });
  assert.equal(config.TyphaAddr, '10.0.0.5:5473');
  assert.equal(config.HealthPort, 9099);
  assert.equal(config.PrometheusMetricsPort, 9091);
  assert.equal(config.DataplaneMode, 'linux');
  assert.deepEqual(config.EtcdEndpoints, []);
  const layers = loadFelixLayers({ NODENAME: 'n', ETCD_ENDPOINTS: 'http://e1:2379,http://e2:2379' });
  assert.deepEqual(resolveFelixConfig(layers, {}).config.EtcdEndpoints, ['http://e1:2379', 'http://e2:2379']);
  const both = loadFelixLayers({ NODENAME: 'n', ETCD_ENDPOINTS: 'http://e1:2379', FELIX_ETCDENDPOINTS: 'http://f:2379' });
  assert.deepEqual(resolveFelixConfig(both, { etcdEndpoints: 'http://ds:2379' }).config.EtcdEndpoints, ['http://f:2379']);
});

test('precedence: env > config file > FelixConfiguration > default', () => {
  const file = '[global]\n# comment\nRouteRefreshInterval = 20\nlogseverityscreen = Warning\n';
  const layers = loadFelixLayers(
    { NODENAME: 'n', FELIX_CONFIGFILE: '/etc/felix.cfg', FELIX_LOGSEVERITYSCREEN: 'Debug' },
    { readFile: (p) => (p === '/etc/felix.cfg' ? file : '') },
  );
  const { config, ignored } = resolveFelixConfig(layers, {
    logSeverityScreen: 'Error',
    routeRefreshInterval: '5s',
    healthPort: 9199,
    prometheusMetricsPort: '2m',
    reportingTTL: '2m30s',
    reportingInterval: '500ms',
    endpointReportingEnabled: true,
    endpointReportingDelay: '2s',
  });
  assert.equal(config.LogSeverityScreen, 'Debug'); // env
  assert.equal(config.RouteRefreshInterval, 20); // file over datastore
  assert.equal(config.HealthPort, 9199); // datastore over default
  assert.equal(config.ReportingTTLSecs, 150, 'a Go duration converts for seconds settings (Calico’s spec name reportingTTL)');
  assert.equal(config.ReportingIntervalSecs, 0.5);
  assert.equal(config.EndpointReportingEnabled, true);
  assert.equal(config.EndpointReportingDelaySecs, 2, 'Calico’s spec name endpointReportingDelay, a Go duration');
  assert.equal(config.PrometheusMetricsPort, 9091, '"2m" is not a port: ignored');
  assert.deepEqual(
    ignored.map((i) => i.param),
    ['PrometheusMetricsPort'],
  );
});

test('per field, as Calico: env > file > node.<node> > default > built-in default', () => {
  const layers = loadFelixLayers(
    { NODENAME: 'n', FELIX_CONFIGFILE: '/f', FELIX_HEALTHPORT: '1001' },
    { readFile: () => 'HealthPort = 2002\nHealthHost = file-host\n' },
  );
  const specs: Array<Record<string, unknown>> = [];
  const agent = new FelixAgent({ nodeName: 'n', dataplane: { onMessages: () => {} }, onConfig: (c) => specs.push(c) });
  agent.onUpdates(
    [
      update('FelixConfiguration', 'default', {
        healthPort: 4004,
        healthHost: 'global-host',
        prometheusMetricsPort: 4005,
        reportingTTL: '44s',
        logSeverityScreen: 'Error',
      }),
      update('FelixConfiguration', 'node.n', { healthHost: 'node-host', prometheusMetricsPort: 3005, logSeverityScreen: 'Debug' }),
      update('FelixConfiguration', 'node.other', { reportingTTL: '99s', prometheusMetricsHost: 'not-ours' }),
    ],
    2,
  );
  agent.onStatus('in-sync', { revision: 2 });
  const { config } = resolveFelixConfig(layers, specs[specs.length - 1]);
  assert.equal(config.HealthPort, 1001, 'env over everything');
  assert.equal(config.HealthHost, 'file-host', 'the file over both FelixConfigurations');
  assert.equal(config.PrometheusMetricsPort, 3005, 'node.<node> over default');
  assert.equal(config.LogSeverityScreen, 'Debug');
  assert.equal(config.ReportingTTLSecs, 44, 'default where node.<node> says nothing; another node’s resource is not read');
  assert.equal(config.PrometheusMetricsHost, '', 'built-in default');
  // Typha settings are local, as in Calico: the datastore cannot move the connection it arrives on.
  assert.equal(resolveFelixConfig(layers, { typhaAddr: 'evil:1', typhaReadTimeout: '5s' }).config.TyphaAddr, '');
  assert.equal(resolveFelixConfig(layers, { typhaReadTimeout: '5s' }).config.TyphaReadTimeout, 30);
});

test('a bad datastore value is ignored and reported; a bad env value stops start', () => {
  const layers = loadFelixLayers({ NODENAME: 'n' });
  const r = resolveFelixConfig(layers, { healthPort: 70000, dataplaneMode: 'dry-run', netns: 'evil' });
  assert.equal(r.config.HealthPort, 9099);
  assert.deepEqual(
    r.ignored.map((i) => i.param),
    ['HealthPort'],
  );
  assert.equal(r.config.DataplaneMode, 'dry-run');
  assert.equal(r.config.Netns, '', 'Netns is env/file only');
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_HEALTHPORT: 'x' }), /HealthPort/);
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_TYPHACERTFILE: '/c' }), /go together/);
});

test('config file: unknown names and malformed lines are errors', () => {
  assert.throws(() => parseConfigFile('Nope = 1'), /Nope: unknown setting/);
  assert.throws(() => parseConfigFile('just text'), /expected "Name = value"/);
  assert.deepEqual(parseConfigFile('; c\nTyphaAddr = t:1\n').values, { TyphaAddr: 't:1' });
});

test('changedParams lists exactly the differing settings', () => {
  const layers = loadFelixLayers({ NODENAME: 'n' });
  const a = resolveFelixConfig(layers, {}).config;
  const b = resolveFelixConfig(layers, { dataplaneMode: 'dry-run', logSeverityScreen: 'Debug' }).config;
  assert.deepEqual(changedParams(a, b).sort(), ['DataplaneMode', 'LogSeverityScreen']);
});

test('failsafe ports in Calico’s env form', () => {
  assert.deepEqual(parseFailsafePorts('tcp:22, udp:68,tcp:10.0.0.0/8:179'), [
    { protocol: 'TCP', port: 22 },
    { protocol: 'UDP', port: 68 },
    { protocol: 'TCP', port: 179, net: '10.0.0.0/8' },
  ]);
  assert.deepEqual(parseFailsafePorts('none'), []);
  assert.equal(parseFailsafePorts('icmp:1'), undefined);
  assert.equal(parseFailsafePorts('tcp:70000'), undefined);
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_FAILSAFEINBOUNDHOSTPORTS: 'ssh' }), /FailsafeInboundHostPorts/);
});

test('the dataplane’s settings: env and file laid over the datastore spec; unset ones left alone', () => {
  const layers = loadFelixLayers({ NODENAME: 'n', FELIX_DEFAULTENDPOINTTOHOSTACTION: 'accept', FELIX_FAILSAFEINBOUNDHOSTPORTS: 'tcp:2222' });
  const spec = {
    defaultEndpointToHostAction: 'Drop',
    logPrefix: 'ds-prefix',
    failsafeInboundHostPorts: [{ protocol: 'TCP', port: 22 }],
    failsafeOutboundHostPorts: [{ protocol: 'UDP', port: 53 }],
  };
  const { config, ignored } = resolveFelixConfig(layers, spec);
  assert.deepEqual(ignored, [], 'array-valued spec fields are the dataplane’s, not parsed here');
  assert.deepEqual(dataplaneConfig(layers, config, spec), {
    defaultEndpointToHostAction: 'Accept',
    logPrefix: 'ds-prefix',
    failsafeInboundHostPorts: [{ protocol: 'TCP', port: 2222 }],
    failsafeOutboundHostPorts: [{ protocol: 'UDP', port: 53 }],
  });
  // Calico's spec names, however the parameter is spelled; only what env or the file names is laid over.
  const mtuLayers = loadFelixLayers({ NODENAME: 'n', FELIX_VXLANMTU: '1400', FELIX_MTUIFACEPATTERN: '^ens' });
  const mtu = resolveFelixConfig(mtuLayers, { vxlanMTU: 1300 }).config;
  assert.deepEqual(dataplaneConfig(mtuLayers, mtu, { vxlanMTU: 1300 }), { vxlanMTU: 1400, mtuIfacePattern: '^ens' });
  const unsetLayers = loadFelixLayers({ NODENAME: 'n' });
  const unset = resolveFelixConfig(unsetLayers, { vxlanMTU: 1300 }).config;
  assert.deepEqual(dataplaneConfig(unsetLayers, unset, { vxlanMTU: 1300, vxlanVNI: 5000 }), { vxlanMTU: 1300, vxlanVNI: 5000 });
  // An env value equal to the built-in default still wins (FELIX_VXLANMTU=0: the uplink less 50).
  const zeroLayers = loadFelixLayers({ NODENAME: 'n', FELIX_VXLANMTU: '0', FELIX_VXLANENABLED: 'false' });
  const zero = resolveFelixConfig(zeroLayers, {}).config;
  assert.deepEqual(dataplaneConfig(zeroLayers, zero, { vxlanMTU: 1300, vxlanEnabled: true }), { vxlanMTU: 0, vxlanEnabled: false });
});

test('NAT outgoing settings: env over the datastore spec, bad env values stop Felix at start', () => {
  const natLayers = loadFelixLayers({ NODENAME: 'n', FELIX_NATPORTRANGE: '40000:50000' });
  const config = resolveFelixConfig(natLayers, {}).config;
  assert.deepEqual(dataplaneConfig(natLayers, config, { natPortRange: '1024:2048', natOutgoingAddress: '192.0.2.1' }), {
    natPortRange: '40000:50000',
    natOutgoingAddress: '192.0.2.1',
  });
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_NATPORTRANGE: '9:8' }), /NATPortRange.*not a port or port range/);
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_NATOUTGOINGADDRESS: 'fd00::1' }), /NATOutgoingAddress.*not an IPv4 address/);
  // natOutgoingExclusions and the interface filter reach the dataplane, env first.
  const exLayers = loadFelixLayers({ NODENAME: 'n', FELIX_NATOUTGOINGEXCLUSIONS: 'IPPoolsAndHostIPs' });
  const ex = resolveFelixConfig(exLayers, {}).config;
  assert.deepEqual(dataplaneConfig(exLayers, ex, { natOutgoingExclusions: 'IPPoolsOnly', iptablesNATOutgoingInterfaceFilter: 'eth+' }), {
    natOutgoingExclusions: 'IPPoolsAndHostIPs',
    iptablesNATOutgoingInterfaceFilter: 'eth+',
  });
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_NATOUTGOINGEXCLUSIONS: 'Everything' }), /NATOutgoingExclusions/);
});

test('dataplane switches from env: typed values laid over the spec, bad addresses stop Felix at start', () => {
  const layers = loadFelixLayers({
    NODENAME: 'n',
    FELIX_REMOVEEXTERNALROUTES: 'false',
    FELIX_WORKLOADSOURCESPOOFING: 'any',
    FELIX_DEVICEROUTESOURCEADDRESS: '192.0.2.1',
    FELIX_VXLANPORT: '8472',
  });
  const config = resolveFelixConfig(layers, {}).config;
  assert.deepEqual(dataplaneConfig(layers, config, { removeExternalRoutes: true, allowVXLANPacketsFromWorkloads: true }), {
    removeExternalRoutes: false,
    workloadSourceSpoofing: 'Any',
    deviceRouteSourceAddress: '192.0.2.1',
    vxlanPort: 8472,
    allowVXLANPacketsFromWorkloads: true,
  });
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_DEVICEROUTESOURCEADDRESS: 'fd00::1' }), /DeviceRouteSourceAddress.*not an IPv4 address/);
  assert.throws(() => loadFelixLayers({ NODENAME: 'n', FELIX_DEVICEROUTESOURCEADDRESSIPV6: '10.0.0.1' }), /DeviceRouteSourceAddressIPv6.*not an IPv6/);
});
