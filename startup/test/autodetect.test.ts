// The autodetection methods and the start-up's settings on fixed interface lists: what each
// method picks and skips, and that every bad value is refused naming its variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autodetect, loadStartupConfig, parseAutodetectMethod, StartupError, type HostInterface } from '../src/index.js';

const IFACES: HostInterface[] = [
  { name: 'lo', cidrs: ['127.0.0.1/8', '::1/128'] },
  { name: 'cali12ab', cidrs: ['10.0.9.1/32'] },
  { name: 'vxlan.calico', cidrs: ['10.66.0.1/32'] },
  { name: 'eth0', cidrs: ['169.254.3.3/16', 'fe80::1/64', '192.168.5.10/24', '2001:db8::10/64'] },
  { name: 'ens6', cidrs: ['10.20.0.4/16'] },
];

const detect = (text: string, version: 4 | 6 = 4, extra = {}) =>
  autodetect(parseAutodetectMethod(text, 'IP_AUTODETECTION_METHOD'), version, { interfaces: IFACES, ...extra });

test('first-found skips loopback, Calico devices and link-local addresses', async () => {
  assert.equal(await detect(''), '192.168.5.10/24');
  assert.equal(await detect('first-found', 6), '2001:db8::10/64');
});

test('interface=, skip-interface= and cidr= choose by name or range', async () => {
  assert.equal(await detect('interface=ens.*'), '10.20.0.4/16');
  assert.equal(await detect('interface=eth.*,ens.*'), '192.168.5.10/24');
  assert.equal(await detect('interface=en'), undefined, 'a regex matches the whole name');
  assert.equal(await detect('skip-interface=eth0,lo'), '10.0.9.1/32', 'skip-interface replaces the default exclusions');
  assert.equal(await detect('cidr=10.20.0.0/16'), '10.20.0.4/16');
  assert.equal(await detect('cidr=172.16.0.0/12'), undefined);
});

test('can-reach= and kubernetes-internal-ip take the address and add its interface prefix', async () => {
  const sourceFor = async (dest: string) => (dest === '10.20.99.1' ? '10.20.0.4' : undefined);
  assert.equal(await detect('can-reach=10.20.99.1', 4, { sourceFor }), '10.20.0.4/16');
  assert.equal(await detect('can-reach=10.1.1.1', 4, { sourceFor }), undefined);
  const kubernetesAddresses = [
    { type: 'Hostname', address: 'n1' },
    { type: 'InternalIP', address: '192.168.5.10' },
    { type: 'InternalIP', address: '2001:db8::99' },
  ];
  assert.equal(await detect('kubernetes-internal-ip', 4, { kubernetesAddresses }), '192.168.5.10/24');
  assert.equal(await detect('kubernetes-internal-ip', 6, { kubernetesAddresses }), '2001:db8::99/128', 'not on an interface: a host prefix');
});

test('bad methods are refused with the variable and the reason', () => {
  for (const [text, why] of [
    ['nearest', /unknown method/],
    ['interface=', /needs at least one interface name regex/],
    ['interface=eth(', /is not a regular expression/],
    ['cidr=10.0.0.0/33', /"10.0.0.0\/33" is not a CIDR/],
    ['can-reach=', /needs an address or host name/],
  ] as const) {
    assert.throws(
      () => parseAutodetectMethod(text, 'IP6_AUTODETECTION_METHOD'),
      (err: unknown) =>
        err instanceof StartupError && err.code === 'STARTUP_CONFIG' && err.message.startsWith(`IP6_AUTODETECTION_METHOD=${text}`) && why.test(err.message),
    );
  }
});

test("the start-up's settings: Calico's defaults, and each bad value named", () => {
  const cfg = loadStartupConfig({ NODENAME: 'Node-1' });
  assert.equal(cfg.nodeName, 'node-1');
  assert.equal(cfg.k8sNodeName, 'node-1');
  assert.equal(cfg.ipv4.kind, 'unset');
  assert.equal(cfg.ipv6.kind, 'none');
  assert.equal(cfg.backend, 'bird');
  assert.equal(cfg.pools.v4?.blockSize, 26);
  assert.equal(cfg.pools.v4?.natOutgoing, true);
  assert.equal(cfg.pools.v6?.natOutgoing, false);
  assert.equal(cfg.pools.v6?.cidr, undefined, 'generated when needed');
  assert.deepEqual(loadStartupConfig({ NODENAME: 'n', NO_DEFAULT_POOLS: 'true' }).pools, {});
  assert.equal(loadStartupConfig({ NODENAME: 'n', CALICO_IPV4POOL_CIDR: 'none' }).pools.v4, undefined);
  assert.equal(loadStartupConfig({ NODENAME: 'n', FELIX_IPV6SUPPORT: 'false' }).pools.v6, undefined);
  assert.equal(loadStartupConfig({ NODENAME: 'n', AS: '1.10' }).asNumber, 65546);
  for (const [env, why] of [
    [{ IP: '10.0.0.1/40' }, /^IP=10.0.0.1\/40: not an IPv4 address/],
    [{ IP6: '10.0.0.1' }, /^IP6=10.0.0.1: not an IPv6 address/],
    [{ AS: '0' }, /^AS=0: not an AS number/],
    [{ AS: '70000.1' }, /^AS=70000.1: each half/],
    [{ CALICO_NETWORKING_BACKEND: 'gobgp' }, /^CALICO_NETWORKING_BACKEND=gobgp/],
    [{ CALICO_IPV4POOL_BLOCK_SIZE: '16' }, /^CALICO_IPV4POOL_BLOCK_SIZE=16: an IPv4 block size is 20 to 32/],
    [{ CALICO_IPV4POOL_CIDR: '10.0.0.0/24', CALICO_IPV4POOL_BLOCK_SIZE: '22' }, /do not fit in the pool's \/24/],
    [{ CALICO_IPV6POOL_CIDR: '10.0.0.0/8' }, /^CALICO_IPV6POOL_CIDR=10.0.0.0\/8: not an IPv6 CIDR/],
    [{ CALICO_IPV4POOL_NODE_SELECTOR: 'a ==' }, /^CALICO_IPV4POOL_NODE_SELECTOR=a ==/],
    [{ CALICO_IPV4POOL_NAT_OUTGOING: 'maybe' }, /not a boolean/],
    [{ NO_DEFAULT_POOLS: 'true', CALICO_IPV4POOL_CIDR: '10.0.0.0/16' }, /contradicts/],
  ] as const) {
    assert.throws(
      () => loadStartupConfig({ NODENAME: 'n', ...env }),
      (err: unknown) => err instanceof StartupError && err.code === 'STARTUP_CONFIG' && why.test(err.message),
      JSON.stringify(env),
    );
  }
});
