import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, expectValid, fixture, runTable } from './validation-helpers.js';
import { normalizeDuration } from '../src/validation/formats.js';

const kcc = (spec: unknown, name = 'default') => doc('KubeControllersConfiguration', spec, name);
const filter = (spec: unknown) => doc('BGPFilter', spec, 'f');
const status = (spec: unknown) => doc('CalicoNodeStatus', spec, 'n1-status');

test('durations are stored as Go prints a metav1.Duration', () => {
  const cases: Array<[string, string]> = [
    ['10m', '10m0s'],
    ['90s', '1m30s'],
    ['0', '0s'],
    ['1h', '1h0m0s'],
    ['1.5h', '1h30m0s'],
    ['500ms', '500ms'],
    ['1500ms', '1.5s'],
    ['2h45m30.5s', '2h45m30.5s'],
    ['100us', '100µs'],
    ['15m0s', '15m0s'],
  ];
  for (const [input, stored] of cases) assert.equal(normalizeDuration(input), stored, input);
  assert.equal(normalizeDuration('ten minutes'), 'ten minutes', 'an invalid value is left for the validator');
  assert.equal(expectValid(doc('BGPPeer', { peerIP: '10.0.0.1', asNumber: 64512, keepaliveTime: '30s' })).spec.keepaliveTime, '30s');
  assert.equal(expectValid(doc('BGPPeer', { peerIP: '10.0.0.1', asNumber: 64512, maxRestartTime: '2m' })).spec.maxRestartTime, '2m0s');
  assert.equal(expectValid(doc('FelixConfiguration', { routeRefreshInterval: '90s' }, 'default')).spec.routeRefreshInterval, '1m30s');
});

test('KubeControllersConfiguration defaults, as clientv3 and the CRD fill them', () => {
  assert.deepEqual(expectValid(kcc({ controllers: {} })).spec, { controllers: {}, prometheusMetricsPort: 9094, healthChecks: 'Enabled' });
  const s = expectValid(fixture('kubecontrollersconfiguration.json')).spec;
  assert.equal(s.etcdV3CompactionPeriod, '10m0s');
  assert.equal(s.controllers.node.reconcilerPeriod, '5m0s');
  assert.equal(s.controllers.node.leakGracePeriod, '15m0s');
  const lb = expectValid(kcc({ controllers: { node: {}, loadBalancer: {}, policyMigration: {} } })).spec.controllers;
  assert.deepEqual(lb, { node: { leakGracePeriod: '15m0s' }, loadBalancer: { assignIPs: 'AllServices' }, policyMigration: { enabled: 'Enabled' } });
  assert.equal(expectValid(kcc({ prometheusMetricsPort: 0 })).spec.prometheusMetricsPort, 0, '0 disables metrics and is kept');
});

test('KubeControllersConfiguration validation', () => {
  const tpl = (t: unknown) => kcc({ controllers: { node: { hostEndpoint: { autoCreate: 'Enabled', templates: t } } } });
  runTable([
    { name: 'templates', doc: tpl([{ generateName: 'eth', interfaceCIDRs: ['10.0.0.0/8'], nodeSelector: "zone == 'a'" }]) },
    {
      name: 'only default',
      doc: kcc({}, 'other'),
      path: 'metadata.name',
      message: '"other" is not allowed: the only KubeControllersConfiguration is named "default"',
    },
    { name: 'severity enum', doc: kcc({ logSeverityScreen: 'Verbose' }), path: 'spec.logSeverityScreen', message: 'is not one of None, Debug, Info' },
    { name: 'port range', doc: kcc({ prometheusMetricsPort: 70000 }), path: 'spec.prometheusMetricsPort', message: 'outside 0..65535' },
    { name: 'bad duration', doc: kcc({ etcdV3CompactionPeriod: '10 minutes' }), path: 'spec.etcdV3CompactionPeriod', message: 'is not a duration' },
    {
      name: 'unknown controller',
      doc: kcc({ controllers: { nodes: {} } }),
      path: 'spec.controllers.nodes',
      message: 'unknown field "nodes" (did you mean "node"?)',
    },
    {
      name: 'template name',
      doc: tpl([{ interfaceCIDRs: ['10.0.0.0/8'] }]),
      path: 'spec.controllers.node.hostEndpoint.templates[0].generateName',
      message: 'is required',
    },
    {
      name: 'template names unique',
      doc: tpl([
        { generateName: 'a', interfaceCIDRs: ['10.0.0.0/8'] },
        { generateName: 'a', interfaceCIDRs: ['10.0.0.0/8'] },
      ]),
      path: 'spec.controllers.node.hostEndpoint.templates[1].generateName',
      message: '"a" is used by another template',
    },
    {
      name: 'template cidrs',
      doc: tpl([{ generateName: 'a' }]),
      path: 'spec.controllers.node.hostEndpoint.templates[0].interfaceCIDRs',
      message: 'list at least one CIDR',
    },
    {
      name: 'template regexp',
      doc: tpl([{ generateName: 'a', interfaceCIDRs: ['10.0.0.0/8'], interfacePattern: '(' }]),
      path: 'spec.controllers.node.hostEndpoint.templates[0].interfacePattern',
      message: 'regular expression',
    },
  ]);
});

test('BGPFilter validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('bgpfilter.json') },
    {
      name: 'operations on accept',
      doc: filter({
        exportV4: [
          {
            action: 'Accept',
            operations: [{ addCommunity: { value: '65000:100' } }, { prependASPath: { prefix: [65000, 65001] } }, { setPriority: { value: 512 } }],
          },
        ],
      }),
    },
    {
      name: 'action required',
      doc: filter({ exportV4: [{ cidr: '10.0.0.0/8', matchOperator: 'In' }] }),
      path: 'spec.exportV4[0].action',
      message: 'is required',
    },
    { name: 'action enum', doc: filter({ importV6: [{ action: 'Drop' }] }), path: 'spec.importV6[0].action', message: 'is not one of Accept, Reject' },
    {
      name: 'v6 cidr in v4 list',
      doc: filter({ exportV4: [{ action: 'Reject', cidr: 'fd00::/64', matchOperator: 'In' }] }),
      path: 'spec.exportV4[0].cidr',
      message: 'an IPv4 one is required',
    },
    {
      name: 'host bits',
      doc: filter({ exportV4: [{ action: 'Reject', cidr: '10.0.0.1/8', matchOperator: 'In' }] }),
      path: 'spec.exportV4[0].cidr',
      message: 'has host bits set: use 10.0.0.0/8',
    },
    {
      name: 'cidr without operator',
      doc: filter({ exportV4: [{ action: 'Reject', cidr: '10.0.0.0/8' }] }),
      path: 'spec.exportV4[0].matchOperator',
      message: 'cidr and matchOperator must both be set or both be empty',
    },
    {
      name: 'prefixLength without cidr',
      doc: filter({ importV4: [{ action: 'Accept', prefixLength: { min: 24 } }] }),
      path: 'spec.importV4[0].prefixLength',
      message: 'needs cidr',
    },
    {
      name: 'prefixLength v4 range',
      doc: filter({ importV4: [{ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { max: 33 } }] }),
      path: 'spec.importV4[0].prefixLength.max',
      message: 'outside 0..32',
    },
    {
      name: 'interface chars',
      doc: filter({ exportV4: [{ action: 'Reject', interface: 'eth0/1' }] }),
      path: 'spec.exportV4[0].interface',
      message: 'is not an interface match',
    },
    {
      name: 'operations on reject',
      doc: filter({ exportV4: [{ action: 'Reject', operations: [{ setPriority: { value: 5 } }] }] }),
      path: 'spec.exportV4[0].operations',
      message: 'may only be used with action Accept',
    },
    {
      name: 'two ops in one',
      doc: filter({ exportV4: [{ action: 'Accept', operations: [{ setPriority: { value: 5 }, addCommunity: { value: '1:2' } }] }] }),
      path: 'spec.exportV4[0].operations[0]',
      message: 'exactly one operation must be set',
    },
    {
      name: 'community format',
      doc: filter({ exportV4: [{ action: 'Accept', communities: { values: ['65536:1'] } }] }),
      path: 'spec.exportV4[0].communities.values[0]',
      message: 'must be in 0..65535',
    },
    { name: 'spec typo', doc: filter({ exportv4: [] }), path: 'spec.exportv4', message: 'unknown field "exportv4" (did you mean "exportV4"?)' },
  ]);
});

test('CalicoNodeStatus validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('caliconodestatus.json') },
    { name: 'period 0 disables refresh', doc: status({ node: 'n1', classes: ['BGP'], updatePeriodSeconds: 0 }) },
    { name: 'node required', doc: status({ classes: ['BGP'], updatePeriodSeconds: 10 }), path: 'spec.node', message: 'is required' },
    { name: 'period required', doc: status({ node: 'n1', classes: ['BGP'] }), path: 'spec.updatePeriodSeconds', message: 'is required' },
    {
      name: 'period max a day',
      doc: status({ node: 'n1', classes: ['BGP'], updatePeriodSeconds: 86401 }),
      path: 'spec.updatePeriodSeconds',
      message: 'outside 0..86400',
    },
    {
      name: 'classes non-empty',
      doc: status({ node: 'n1', classes: [], updatePeriodSeconds: 10 }),
      path: 'spec.classes',
      message: 'list at least one of Agent, BGP, Routes',
    },
    {
      name: 'class enum',
      doc: status({ node: 'n1', classes: ['Felix'], updatePeriodSeconds: 10 }),
      path: 'spec.classes[0]',
      message: 'is not one of Agent, BGP, Routes',
    },
    {
      name: 'classes unique',
      doc: status({ node: 'n1', classes: ['BGP', 'BGP'], updatePeriodSeconds: 10 }),
      path: 'spec.classes[1]',
      message: 'duplicate entry "BGP"',
    },
    {
      name: 'status as calico/node writes it',
      doc: {
        ...status({ node: 'n1', classes: ['Agent'], updatePeriodSeconds: 10 }),
        status: {
          lastUpdated: '2026-01-01T00:00:00Z',
          agent: { birdV4: { state: 'Ready', version: 'v0.3.3' } },
          bgp: { numberEstablishedV4: 1, peersV4: [{ peerIP: '10.0.0.2', type: 'NodeMesh', state: 'Established' }] },
        },
      },
    },
  ]);
});
