import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { felixConfiguration } from '../src/kinds/felix-configuration.js';
import { doc, expectValid, fixture, runTable } from './validation-helpers.js';

const felix = (spec: unknown, name = 'default') => doc('FelixConfiguration', spec, name);

test('FelixConfiguration knows every field of current Calico (and a few it dropped)', () => {
  const fields = Object.keys(felixConfiguration.spec.fields);
  const crd = readFileSync(new URL('../../test/fixtures/felixconfiguration-crd-fields.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  assert.ok(crd.length > 180);
  assert.deepEqual(
    crd.filter((f) => !fields.includes(f)),
    [],
    'CRD fields the schema does not know',
  );
  for (const f of [
    'bpfEnabled',
    'nftablesMode',
    'routeSource',
    'wireguardEnabledV6',
    'bpfRedirectToPeer',
    'programClusterRoutes',
    'localSubnetL2Reachability',
    'flowLogsGoldmaneServer',
    'iptablesLockTimeout',
    'bpfKubeProxyEndpointSlicesEnabled',
    'nodeSelector',
  ]) {
    assert.ok(fields.includes(f), f);
  }
});

test('FelixConfiguration gets no create-time defaults', () => {
  assert.deepEqual(expectValid(felix({})).spec, {});
  assert.deepEqual(expectValid(fixture('felixconfiguration.json')).spec, fixture('felixconfiguration.json').spec);
});

test('FelixConfiguration values', () => {
  runTable([
    { name: 'docs sample', doc: fixture('felixconfiguration.json') },
    { name: 'operator defaults', doc: fixture('felixconfiguration-operator.json') },
    { name: 'per-node', doc: felix({ logSeverityScreen: 'Debug', bpfLogLevel: 'Debug' }, 'node.worker-1') },
    { name: 'selector-scoped', doc: felix({ nodeSelector: "pool == 'gpu'", bpfEnabled: true }, 'gpu-nodes') },
    { name: 'empty enum means unset', doc: felix({ logSeveritySys: '', chainInsertMode: '' }) },
    { name: 'case-insensitive modes', doc: felix({ chainInsertMode: 'insert', routeSource: 'workloadips', bpfEnforceRPF: 'strict' }) },
    {
      name: 'log level',
      doc: felix({ logSeverityScreen: 'Verbose' }),
      path: 'spec.logSeverityScreen',
      message: '"Verbose" is not one of Trace, Debug, Info, Warning, Error, Fatal',
    },
    { name: 'log level case', doc: felix({ logSeverityFile: 'info' }), path: 'spec.logSeverityFile', message: 'is not one of' },
    { name: 'iptables backend', doc: felix({ iptablesBackend: 'nftables' }), path: 'spec.iptablesBackend', message: 'is not one of Legacy, NFT, Auto' },
    { name: 'nftables mode', doc: felix({ nftablesMode: 'On' }), path: 'spec.nftablesMode', message: 'is not one of Disabled, Enabled, Auto' },
    { name: 'route source', doc: felix({ routeSource: 'BGP' }), path: 'spec.routeSource', message: 'is not one of WorkloadIPs, CalicoIPAM' },
    { name: 'bpf log level', doc: felix({ bpfLogLevel: 'Trace' }), path: 'spec.bpfLogLevel', message: 'is not one of Off, Info, Debug' },
    { name: 'bpf service mode', doc: felix({ bpfExternalServiceMode: 'Direct' }), path: 'spec.bpfExternalServiceMode', message: 'Tunnel, DSR' },
    { name: 'ctlb', doc: felix({ bpfConnectTimeLoadBalancing: 'UDP' }), path: 'spec.bpfConnectTimeLoadBalancing', message: 'TCP, Enabled, Disabled' },
    { name: 'duration', doc: felix({ routeRefreshInterval: '90' }), path: 'spec.routeRefreshInterval', message: 'is not a duration' },
    { name: 'negative duration', doc: felix({ iptablesRefreshInterval: '-10s' }), path: 'spec.iptablesRefreshInterval', message: 'must not be negative' },
    { name: 'duration as number', doc: felix({ reportingInterval: 30 }), path: 'spec.reportingInterval', message: 'expected a string, got number 30' },
    {
      name: 'conntrack timeout',
      doc: felix({ bpfConntrackTimeouts: { tcpSynSent: 'never' } }),
      path: 'spec.bpfConntrackTimeouts.tcpSynSent',
      message: 'or Auto',
    },
    { name: 'vxlan port', doc: felix({ vxlanPort: 70000 }), path: 'spec.vxlanPort', message: '70000 is outside 1..65535' },
    { name: 'vxlan VNI', doc: felix({ vxlanVNI: 16777216 }), path: 'spec.vxlanVNI', message: 'outside 1..16777215' },
    { name: 'health port', doc: felix({ healthPort: 0 }), path: 'spec.healthPort', message: 'outside 1..65535' },
    { name: 'mark mask', doc: felix({ iptablesMarkMask: 4294967296 }), path: 'spec.iptablesMarkMask', message: 'outside 0..4294967295' },
    { name: 'mtu type', doc: felix({ ipipMTU: '1400' }), path: 'spec.ipipMTU', message: 'expected an integer' },
    { name: 'go settings', doc: felix({ goGCThreshold: -2 }), path: 'spec.goGCThreshold', message: '-2 is less than -1' },
    { name: 'NAT address family', doc: felix({ natOutgoingAddress: 'fd00::1' }), path: 'spec.natOutgoingAddress', message: 'is not an IPv4 address' },
    {
      name: 'route source address v6',
      doc: felix({ deviceRouteSourceAddressIPv6: '10.0.0.1' }),
      path: 'spec.deviceRouteSourceAddressIPv6',
      message: 'is not an IPv6 address',
    },
    {
      name: 'external nodes are IPv4',
      doc: felix({ externalNodesList: ['fd00::/64'] }),
      path: 'spec.externalNodesList[0]',
      message: 'an IPv4 one is required',
    },
    {
      name: 'failsafe protocol',
      doc: felix({ failsafeInboundHostPorts: [{ protocol: 'ICMP', port: 0 }] }),
      path: 'spec.failsafeInboundHostPorts[0].protocol',
      message: 'is not one of TCP, UDP, SCTP',
    },
    {
      name: 'failsafe port required',
      doc: felix({ failsafeOutboundHostPorts: [{ protocol: 'UDP' }] }),
      path: 'spec.failsafeOutboundHostPorts[0].port',
      message: 'is required',
    },
    {
      name: 'failsafe net',
      doc: felix({ failsafeOutboundHostPorts: [{ protocol: 'UDP', port: 53, net: 'dns' }] }),
      path: 'spec.failsafeOutboundHostPorts[0].net',
      message: 'is not a CIDR or address',
    },
    { name: 'node port range named', doc: felix({ kubeNodePortRanges: ['http'] }), path: 'spec.kubeNodePortRanges[0]', message: 'is not a port or port range' },
    { name: 'node port ranges max 7', doc: felix({ kubeNodePortRanges: [1, 2, 3, 4, 5, 6, 7, 8] }), path: 'spec.kubeNodePortRanges', message: 'at most 7' },
    { name: 'NAT port range', doc: felix({ natPortRange: '32768:28000' }), path: 'spec.natPortRange', message: 'is reversed' },
    { name: 'PSNAT ports', doc: felix({ bpfPSNATPorts: '20000:29999' }) },
    { name: 'route table range', doc: felix({ routeTableRange: { min: 1, max: 251 } }), path: 'spec.routeTableRange', message: 'within 1..250' },
    {
      name: 'both route table settings',
      doc: felix({ routeTableRange: { min: 1, max: 10 }, routeTableRanges: [{ min: 1, max: 10 }] }),
      path: 'spec.routeTableRange',
      message: 'together with routeTableRanges',
    },
    { name: 'route tables min', doc: felix({ routeTableRanges: [{ min: 0, max: 10 }] }), path: 'spec.routeTableRanges[0].min', message: 'less than 1' },
    { name: 'route tables reversed', doc: felix({ routeTableRanges: [{ min: 10, max: 1 }] }), path: 'spec.routeTableRanges[0]', message: 'greater than max' },
    { name: 'route tables too many', doc: felix({ routeTableRanges: [{ min: 1, max: 70000 }] }), path: 'spec.routeTableRanges', message: 'at most 65535' },
    { name: 'nodeSelector on default', doc: felix({ nodeSelector: 'all()' }), path: 'spec.nodeSelector', message: 'must not be set on the "default"' },
    { name: 'nodeSelector on node config', doc: felix({ nodeSelector: 'all()' }, 'node.n1'), path: 'spec.nodeSelector', message: 'per-node' },
    { name: 'bad regex', doc: felix({ bpfDataIfacePattern: '^(eth|ens' }), path: 'spec.bpfDataIfacePattern', message: 'is not a valid regular expression' },
    { name: 'Go regex with flags', doc: felix({ mtuIfacePattern: '(?i)^(en|eth).*', logDebugFilenameRegex: '(?P<f>route).*' }) },
    { name: 'wireguard iface', doc: felix({ wireguardInterfaceName: '*' }), path: 'spec.wireguardInterfaceName', message: 'is not an interface name' },
    { name: 'NAT iface filter', doc: felix({ iptablesNATOutgoingInterfaceFilter: 'eth+' }) },
    {
      name: 'feature override',
      doc: felix({ featureDetectOverride: 'SNATFullyRandom=maybe' }),
      path: 'spec.featureDetectOverride',
      message: 'Feature=true|false',
    },
    { name: 'log prefix', doc: felix({ logPrefix: 'calico"drop' }), path: 'spec.logPrefix', message: 'is not a log prefix' },
    { name: 'openstack region', doc: felix({ openstackRegion: 'Region One' }), path: 'spec.openstackRegion', message: 'lower case' },
    { name: 'rate limit', doc: felix({ logActionRateLimit: '10/sec' }), path: 'spec.logActionRateLimit', message: 'N/second|minute|hour|day' },
    {
      name: 'health override name',
      doc: felix({ healthTimeoutOverrides: [{ name: 'a/b', timeout: '30s' }] }),
      path: 'spec.healthTimeoutOverrides[0].name',
      message: 'health component name',
    },
    { name: 'istio DSCP', doc: felix({ istioDSCPMark: 'EF' }) },
    { name: 'istio DSCP range', doc: felix({ istioDSCPMark: 64 }), path: 'spec.istioDSCPMark', message: 'outside 0..63' },
    { name: 'bpf log filters', doc: felix({ bpfLogFilters: { all: 'tcp port 80', eth0: 'icmp' } }) },
    {
      name: 'bpf log filter key',
      doc: felix({ bpfLogFilters: { 'not an iface': 'x' } }),
      path: 'spec.bpfLogFilters["not an iface"]',
      message: 'is not an interface name',
    },
  ]);
});
