// Output shapes: the 1.0 result, the legacy `version` field, errors, VERSION, prevResult.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addResult, errorResult, prevResultAddresses, versionResult } from '../src/result.js';
import { InvalidEnvError } from '../src/errors.js';

const input = {
  hostVeth: 'calia4fc3c48bd8',
  ifname: 'eth0',
  containerMac: '0a:58:0a:42:00:05',
  netns: '/var/run/netns/p',
  addresses: [
    { address: '10.66.0.5', version: 4 as const },
    { address: 'fd00::5', version: 6 as const },
  ],
};

test('a 1.0.0 result: two interfaces, ips pointing at the pod one, on-link default routes', () => {
  assert.deepEqual(addResult({ ...input, cniVersion: '1.0.0' }), {
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'calia4fc3c48bd8', mac: 'ee:ee:ee:ee:ee:ee' },
      { name: 'eth0', mac: '0a:58:0a:42:00:05', sandbox: '/var/run/netns/p' },
    ],
    ips: [
      { address: '10.66.0.5/32', interface: 1 },
      { address: 'fd00::5/128', interface: 1 },
    ],
    routes: [
      { dst: '0.0.0.0/0', gw: '169.254.1.1' },
      { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' },
    ],
    dns: {},
  });
});

test('0.4.0 and 0.3.x results name each ip’s version', () => {
  const r = addResult({ ...input, cniVersion: '0.4.0' });
  assert.deepEqual(
    r.ips.map((i) => i.version),
    ['4', '6'],
  );
});

test('error and VERSION shapes', () => {
  assert.deepEqual(errorResult('1.0.0', new InvalidEnvError('CNI_NETNS is not set')), { cniVersion: '1.0.0', code: 4, msg: 'CNI_NETNS is not set' });
  assert.deepEqual(versionResult(), { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
});

test('prevResult addresses', () => {
  assert.deepEqual(prevResultAddresses({ ips: [{ address: '10.66.0.5/32' }, { address: 'fd00::5/128' }, { nope: 1 }] }), [
    { address: '10.66.0.5', version: 4 },
    { address: 'fd00::5', version: 6 },
  ]);
  assert.equal(prevResultAddresses(undefined), undefined);
  assert.equal(prevResultAddresses({ ips: 'x' }), undefined);
});
