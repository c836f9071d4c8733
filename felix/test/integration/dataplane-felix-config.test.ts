import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage, WorkloadEndpoint } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, succeeds, uniquePrefix, wirePod } from '../../src/testing/netns.js';

// FelixConfiguration fields that change the dataplane, on the real kernel: a node namespace with
// two pods wired as Calico's CNI plugin does, an allow-all profile, and a UDP server in pod a
// that prints each datagram's port and source and echoes it. Each field is switched through a
// ConfigUpdate, as the calculation graph sends it, and checked by traffic or by the kernel's
// own view (its routes, its source-address choice, its sysctls).

const IPS = { a: '10.65.0.1', b: '10.65.0.2', spoofed: '10.99.0.5' };
/** The node's two addresses (the device route source is one of them). */
const HOST_ADDRS = ['198.51.100.1', '192.168.200.1'];

const SERVER = `
const dgram = require('node:dgram');
for (const port of process.argv.slice(1).map(Number)) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => { console.log('got ' + port + ' ' + r.address); s.send(m, r.port, r.address); });
  s.bind(port, () => console.log('ready ' + port));
}`;
const CLIENT = `
const s = require('node:dgram').createSocket('udp4');
const [host, port, bind] = process.argv.slice(1);
s.on('message', () => process.exit(0));
setTimeout(() => process.exit(1), 1000);
s.bind({ address: bind || undefined }, () => s.send('x', Number(port), host));`;

/** The UDP server in `ns` on `ports`; `seen(port, from)` waits up to 2 s for a datagram to arrive. */
async function udpServer(t: TestContext, ns: string, ports: number[]): Promise<{ seen(port: number, from: string): Promise<boolean> }> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const until = async (re: RegExp, ms: number): Promise<boolean> => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      if (re.test(out)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return re.test(out);
  };
  for (const p of ports) assert.ok(await until(new RegExp(`ready ${p}\\b`), 10_000), `UDP server on ${p} not listening within 10 s`);
  return {
    seen: (port, from) => until(new RegExp(`got ${port} ${from.replace(/\./g, '\\.')}\\b`), 2_000),
  };
}

/** True when a datagram from `ns` (from `bind`, if given) to `host:port` is echoed within 1 s. */
function udpEcho(ns: string, host: string, port: number, bind = ''): Promise<boolean> {
  return succeeds('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT, host, String(port), bind]);
}

test('FelixConfiguration on the kernel: VXLAN from workloads, device route source, external routes, source spoofing, IPv6 support, IP forwarding', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const tag = prefix.slice(4);
  const node = `${prefix}-node`;
  const pods = { a: `${prefix}-a`, b: `${prefix}-b` };
  const ifaces = { a: `cali${tag}a`, b: `cali${tag}b` };
  t.after(async () => {
    for (const ns of [node, pods.a, pods.b]) await deleteNetns(ns);
  });
  for (const ns of [node, pods.a, pods.b]) await createNetns(ns);
  for (const k of ['a', 'b'] as const) await wirePod(node, pods[k], ifaces[k], IPS[k]);
  // An uplink with the default route, as on a real node (proxy ARP for the pods' 169.254.1.1
  // gateway answers only for an address the node can route elsewhere).
  await run('ip', ['-n', node, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1']);
  await run('ip', ['-n', node, 'link', 'set', 'ext1', 'up']);
  await run('ip', ['-n', node, 'link', 'set', 'ext0', 'up']);
  await run('ip', ['-n', node, 'route', 'add', 'default', 'dev', 'ext0']);
  await run('ip', ['netns', 'exec', node, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0']);
  await run('ip', ['-n', node, 'addr', 'add', `${HOST_ADDRS[0]}/24`, 'dev', 'ext0']);
  await run('ip', ['-n', node, 'addr', 'add', `${HOST_ADDRS[1]}/32`, 'dev', 'ext1']);

  let now = 0; // the route clean-up grace is measured on this clock
  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'node1', clock: new FakeClock(), now: () => now });
  t.after(() => dp.close());
  const endpoint = (k: 'a' | 'b', extra: Partial<WorkloadEndpoint> = {}): DataplaneMessage => ({
    kind: 'WorkloadEndpointUpdate',
    id: { namespace: 'default', name: k },
    endpoint: { name: ifaces[k], ipv4Nets: [`${IPS[k]}/32`], ipv6Nets: [], profileIds: ['kns.default'], tiers: [], ...extra },
  });
  const configure = async (config: Record<string, unknown>): Promise<void> => {
    dp.onMessages([{ kind: 'ConfigUpdate', config, clusterInformation: {} }]);
    assert.deepEqual((await dp.apply()).errors, []);
  };
  dp.onMessages([
    { kind: 'ConfigUpdate', config: {}, clusterInformation: {} },
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    endpoint('a'),
    endpoint('b'),
    { kind: 'InSync' },
  ]);
  assert.deepEqual((await dp.apply()).errors, []);
  const server = await udpServer(t, pods.a, [4789, 4790]);

  // allowVXLANPacketsFromWorkloads (default false): UDP to the VXLAN port from a pod is dropped
  // before its policy; other ports pass; allowed, it passes too.
  assert.equal(await udpEcho(pods.b, IPS.a, 4790), true, 'UDP to another port passes');
  assert.equal(await udpEcho(pods.b, IPS.a, 4789), false, 'a pod’s VXLAN-port packets are dropped by default');
  await configure({ allowVXLANPacketsFromWorkloads: true });
  assert.equal(await udpEcho(pods.b, IPS.a, 4789), true, 'allowed by FelixConfiguration');
  await configure({ vxlanPort: 4790 });
  assert.equal(await udpEcho(pods.b, IPS.a, 4789), true, 'with vxlanPort 4790, 4789 is an ordinary port');
  assert.equal(await udpEcho(pods.b, IPS.a, 4790), false, 'and 4790 is dropped');

  // deviceRouteSourceAddress: the route to a pod carries the src hint, and the kernel uses it.
  // The hint is whichever of the node's two addresses the kernel does not pick by itself.
  const srcToward = async (ip: string) => /src (\S+)/.exec(await run('ip', ['-n', node, 'route', 'get', ip]))?.[1];
  const own = await srcToward(IPS.a);
  const hint = own === HOST_ADDRS[0] ? HOST_ADDRS[1] : HOST_ADDRS[0];
  assert.ok(own !== undefined && HOST_ADDRS.includes(own), `the kernel picks one of the node's addresses (got ${own})`);
  await configure({ deviceRouteSourceAddress: hint });
  assert.match(await run('ip', ['-n', node, 'route', 'show', 'proto', '80']), new RegExp(`^${IPS.a} dev ${ifaces.a} scope link src ${hint}`, 'm'));
  assert.equal(await srcToward(IPS.a), hint);
  assert.deepEqual((await dp.apply()).ipCommands, [], 'the route with its src reads back as desired');

  // removeExternalRoutes (default true): someone else's route on a workload interface goes once
  // the interface is 10 s old (a new pod keeps its CNI route until Felix has its endpoint);
  // false, it stays.
  const stray = ['-n', node, 'route', 'add', '10.98.0.0/24', 'dev', ifaces.b, 'proto', 'static'];
  const hasStray = async () => /^10\.98\.0\.0\/24/m.test(await run('ip', ['-n', node, 'route', 'show']));
  await run('ip', stray);
  now = 9_999;
  await configure({});
  assert.equal(await hasStray(), true, 'kept while the interface is in its grace period');
  now = 10_000;
  await dp.apply();
  assert.equal(await hasStray(), false, 'removed after it');
  await configure({ removeExternalRoutes: false });
  await run('ip', stray);
  await dp.apply();
  assert.equal(await hasStray(), true, 'kept with removeExternalRoutes: false');
  await run('ip', ['-n', node, 'route', 'del', '10.98.0.0/24', 'dev', ifaces.b]);

  // workloadSourceSpoofing: pod b may send from 10.99.0.5 (allowSpoofedSourcePrefixes) only
  // when FelixConfiguration says Any; otherwise strict reverse-path filtering drops it (the
  // node's route back to 10.99.0.5 is out of ext0, not the pod's interface).
  await run('ip', ['-n', pods.b, 'addr', 'add', `${IPS.spoofed}/32`, 'dev', 'eth0']);
  dp.onMessages([endpoint('b', { allowSpoofedSourcePrefixes: [`${IPS.spoofed}/32`] })]);
  await configure({});
  await udpEcho(pods.b, IPS.a, 4790, IPS.spoofed); // no echo either way: the node routes 10.99.0.5 out of ext0
  assert.equal(await server.seen(4790, IPS.spoofed), false, 'Disabled (default): the spoofed packet is dropped');
  await configure({ workloadSourceSpoofing: 'Any' });
  assert.equal((await run('ip', ['netns', 'exec', node, 'sysctl', '-n', `net.ipv4.conf.${ifaces.b}.rp_filter`])).trim(), '0');
  await udpEcho(pods.b, IPS.a, 4790, IPS.spoofed);
  assert.equal(await server.seen(4790, IPS.spoofed), true, 'Any: the pod may use its allowed prefix');

  // ipv6Support false: pod a's IPv6 route and IPv6 sysctls are not programmed; ours is removed.
  const v6Routes = async () => run('ip', ['-n', node, '-6', 'route', 'show', 'proto', '80']);
  dp.onMessages([endpoint('a', { ipv6Nets: ['fd00:65::1/128'] })]);
  await configure({});
  assert.match(await v6Routes(), new RegExp(`^fd00:65::1 dev ${ifaces.a}`, 'm'));
  await configure({ ipv6Support: false });
  assert.equal((await v6Routes()).trim(), '');
  assert.match(await run('ip', ['-n', node, 'route', 'show', 'proto', '80']), new RegExp(`^${IPS.a} dev ${ifaces.a}`, 'm'), 'IPv4 unchanged');

  // ipForwarding Disabled: the host-wide switch is left as the host has it; Enabled sets it.
  const ipForward = async () => (await run('ip', ['netns', 'exec', node, 'sysctl', '-n', 'net.ipv4.ip_forward'])).trim();
  await run('ip', ['netns', 'exec', node, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  await configure({ ipForwarding: 'Disabled' });
  assert.equal(await ipForward(), '0');
  await configure({});
  assert.equal(await ipForward(), '1');
});
