// The product path of a CNI call: the runtime runs the Go shim, which hands the call to
// `cattail cni-daemon` over its socket, against real etcd and real network namespaces. The
// daemon's answers are the direct plugin's (ADD, CHECK, DEL, VERSION, errors); without a daemon,
// or when the daemon cannot see the pod's netns, the shim runs cattail-cni-direct; bad requests
// are answered and cost nobody else; concurrent ADDs get distinct addresses; SIGTERM lets the
// call being served finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ipam } from '@cattail/datastore';
import { exposeLoopbackPorts, startTcpProxy, until } from '@cattail/datastore/testing';
import { callDaemon, encodeRequest, MAX_REQUEST_BYTES } from '@cattail/cni/daemon';
import { cniEnv, createNetns, ipPool, netConf, requireTools, runCni, startCluster, uniquePrefix } from './harness.js';
import { makeShim, runShim, startDaemon } from './daemon-harness.js';

/** The structure of a JSON value with every leaf replaced by its type: results of two pods compare equal. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

function podIp(r: { json?: Record<string, unknown> }): string {
  return (r.json as { ips: Array<{ address: string }> }).ips[0].address.split('/')[0];
}

test('the shim and cattail cni-daemon against real etcd', { timeout: 900_000 }, async (t) => {
  await requireTools();
  const cluster = await startCluster(t);
  await cluster.ds.create(ipPool('pool-a', '10.66.0.0/16'));
  const prefix = uniquePrefix();
  const node = await createNetns(t, `${prefix}-node`);
  await cluster.expose(t, node);
  const conf = netConf(cluster.endpoint);
  const client = new ipam.IpamClient(cluster.ds);
  const daemon = await startDaemon(t, node);
  const shim = await makeShim(t);
  let pods = 0;
  const newPod = async () => createNetns(t, `${prefix}-p${pods++}`);

  await t.test('ADD, CHECK, DEL and VERSION through the daemon answer as the direct plugin does', async () => {
    const [podA, podB] = [await newPod(), await newPod()];
    const viaDaemon = await runShim(node, shim, daemon.socket, cniEnv('ADD', 'd0a0', podA, { namespace: 'shop', name: 'a' }), conf);
    assert.equal(viaDaemon.code, 0, `ADD through the daemon: ${viaDaemon.stdout}\n${viaDaemon.stderr}\n${daemon.stderr()}`);
    const direct = await runCni(node, cniEnv('ADD', 'd0b0', podB, { namespace: 'shop', name: 'b' }), conf);
    assert.equal(direct.code, 0, `direct ADD: ${direct.stdout}\n${direct.stderr}`);
    assert.deepEqual(shape(viaDaemon.json), shape(direct.json), 'the same result shape');
    assert.notEqual(podIp(viaDaemon), podIp(direct));
    assert.deepEqual(
      (await client.ipsByHandle('k8s-pod-network.d0a0')).map((a) => a.address),
      [podIp(viaDaemon)],
    );

    const check = await runShim(node, shim, daemon.socket, cniEnv('CHECK', 'd0a0', podA, { namespace: 'shop', name: 'a' }), {
      ...conf,
      prevResult: viaDaemon.json,
    });
    assert.deepEqual([check.code, check.stdout], [0, ''], `CHECK: ${check.stdout}`);

    // An error is the direct plugin's error, byte for byte.
    const bad = { ...conf, datastore_type: 'consul' };
    const errDaemon = await runShim(node, shim, daemon.socket, cniEnv('ADD', 'd0c0', podA), bad);
    const errDirect = await runCni(node, cniEnv('ADD', 'd0c0', podA), bad);
    assert.equal(errDaemon.code, 1);
    assert.equal(errDaemon.stdout, errDirect.stdout);

    const versionDaemon = await runShim(node, shim, daemon.socket, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
    const versionDirect = await runCni(node, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
    assert.equal(versionDaemon.code, 0);
    assert.equal(versionDaemon.stdout, versionDirect.stdout);

    for (const [cid, pod, name] of [
      ['d0a0', podA, 'a'],
      ['d0b0', podB, 'b'],
    ] as const) {
      const del = await runShim(node, shim, daemon.socket, cniEnv('DEL', cid, pod, { namespace: 'shop', name }), conf);
      assert.deepEqual([del.code, del.stdout], [0, ''], `DEL ${cid}: ${del.stdout}`);
      assert.deepEqual(await client.ipsByHandle(`k8s-pod-network.${cid}`), []);
    }
    assert.deepEqual(await shim.directCalls(), [], 'the daemon served every call');
    assert.equal(await daemon.requests('ADD', 'ok'), 1);
    assert.equal(await daemon.requests('ADD', 'error'), 1);
    assert.equal(await daemon.requests('DEL', 'ok'), 2);
  });

  await t.test('10 concurrent ADDs through the daemon: distinct addresses; DELs free them', async () => {
    const pods = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => ({ ns: await newPod(), cid: `c0c0${i}`, id: { namespace: 'load', name: `p${i}` } })),
    );
    const adds = await Promise.all(pods.map((p) => runShim(node, shim, daemon.socket, cniEnv('ADD', p.cid, p.ns, p.id), conf)));
    adds.forEach((r, i) => assert.equal(r.code, 0, `ADD ${i}: ${r.stdout}\n${r.stderr}`));
    assert.equal(new Set(adds.map(podIp)).size, 10);
    assert.equal((await cluster.ds.list('WorkloadEndpoint', { namespace: 'load' })).items.length, 10);
    const dels = await Promise.all(pods.map((p) => runShim(node, shim, daemon.socket, cniEnv('DEL', p.cid, p.ns, p.id), conf)));
    dels.forEach((r, i) => assert.equal(r.code, 0, `DEL ${i}: ${r.stdout}`));
    assert.equal((await cluster.ds.list('WorkloadEndpoint', { namespace: 'load' })).items.length, 0);
    assert.deepEqual(await shim.directCalls(), []);
  });

  await t.test('an oversized or malformed request gets a CNI error 6, and the daemon keeps serving', async () => {
    const huge = await callDaemon(daemon.socket, Buffer.alloc(MAX_REQUEST_BYTES + 4096, 'x'));
    assert.ok('stdout' in huge && huge.exitCode === 1);
    const hugeErr = JSON.parse(huge.stdout) as { code: number; msg: string };
    assert.equal(hugeErr.code, 6);
    assert.match(hugeErr.msg, /larger than 1048576 bytes/);
    const garbled = await callDaemon(daemon.socket, '{"env": {"CNI_COMMAND": "ADD"}');
    assert.ok('stdout' in garbled && garbled.exitCode === 1);
    assert.equal((JSON.parse(garbled.stdout) as { code: number }).code, 6);
    const wrongShape = await callDaemon(daemon.socket, encodeRequest({ env: {}, stdin: '' }).replace('"stdin":""', '"stdin":3'));
    assert.ok('stdout' in wrongShape);
    assert.match((JSON.parse(wrongShape.stdout) as { msg: string }).msg, /no "stdin" string/);
    assert.equal(await daemon.requests('unknown', 'rejected'), 3);
    // The shim bounds stdin itself, with the same error.
    const big = await runShim(node, shim, daemon.socket, { CNI_COMMAND: 'VERSION' }, 'x'.repeat(MAX_REQUEST_BYTES + 1));
    assert.equal(big.code, 1);
    assert.equal((big.json as { code: number }).code, 6);
    const version = await runShim(node, shim, daemon.socket, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
    assert.equal(version.code, 0, 'still serving');
    assert.equal(daemon.hasExited(), false);
  });

  await t.test('no daemon on the socket: the shim runs cattail-cni-direct, which does the work', async () => {
    const pod = await newPod();
    const missing = `${daemon.socket}.nobody`;
    const add = await runShim(node, shim, missing, cniEnv('ADD', 'f0a0', pod), conf);
    assert.equal(add.code, 0, `ADD: ${add.stdout}\n${add.stderr}`);
    assert.deepEqual(
      (await client.ipsByHandle('k8s-pod-network.f0a0')).map((a) => a.address),
      [podIp(add)],
    );
    const del = await runShim(node, shim, missing, cniEnv('DEL', 'f0a0', pod), conf);
    assert.equal(del.code, 0, `DEL: ${del.stdout}`);
    assert.deepEqual(await shim.directCalls(), ['ADD f0a0', 'DEL f0a0']);
  });

  await t.test("a daemon that cannot see the pod's netns answers fallback; the direct plugin does the work", async () => {
    // The daemon's mount namespace gets an empty /var/run/netns, as a pod whose netns mount is
    // missing: every pod netns path is invisible to it, not to the direct plugin.
    const blind = await startDaemon(t, node, {
      wrap: (argv) => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs cattail-test /var/run/netns && exec "$@"', 'sh', ...argv],
    });
    const blindShim = await makeShim(t);
    const pod = await newPod();
    const add = await runShim(node, blindShim, blind.socket, cniEnv('ADD', 'b0a0', pod), conf);
    assert.equal(add.code, 0, `ADD: ${add.stdout}\n${add.stderr}\n${blind.stderr()}`);
    assert.deepEqual(await blindShim.directCalls(), ['ADD b0a0']);
    assert.equal(await blind.requests('ADD', 'fallback'), 1);
    assert.equal(await blind.requests('ADD', 'ok'), 0);
    const del = await runShim(node, blindShim, blind.socket, cniEnv('DEL', 'b0a0', pod), conf);
    assert.equal(del.code, 0);
    assert.deepEqual(await client.ipsByHandle('k8s-pod-network.b0a0'), []);
  });

  await t.test('SIGTERM: the socket goes at once, the call being served finishes and is answered, then the daemon exits 0', async (t2) => {
    // etcd behind a proxy the test can freeze, so a call is held in flight for as long as needed.
    const proxy = await startTcpProxy('127.0.0.1', cluster.port);
    t2.after(() => proxy.close());
    const relay = await exposeLoopbackPorts(node, [proxy.port], { timeoutMs: 120_000 });
    t2.after(() => relay.close());
    const viaProxy = netConf(`http://127.0.0.1:${proxy.port}`);
    const draining = await startDaemon(t2, node);
    const drainShim = await makeShim(t2);
    const [warm, held] = [await newPod(), await newPod()];
    // A first call opens the daemon's (warm) connection through the proxy.
    const first = await runShim(node, drainShim, draining.socket, cniEnv('ADD', 'e0a0', warm), viaProxy);
    assert.equal(first.code, 0, `first ADD: ${first.stdout}\n${draining.stderr()}`);
    proxy.freeze();
    const call = runShim(node, drainShim, draining.socket, cniEnv('ADD', 'e0b0', held), viaProxy);
    await until(async () => (await draining.metric('cattail_cni_requests_in_flight')) === 1, 'the held ADD is being served');
    process.kill(draining.pid, 'SIGTERM');
    await until(() => !existsSync(draining.socket), 'the socket is removed');
    assert.equal(draining.hasExited(), false, 'still finishing the held call');
    // A call now finds no socket: the direct plugin serves it.
    const late = await runShim(node, drainShim, draining.socket, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
    assert.equal(late.code, 0);
    proxy.thaw();
    const held2 = await call;
    assert.equal(held2.code, 0, `the held ADD: ${held2.stdout}\n${held2.stderr}\n${draining.stderr()}`);
    assert.equal(await draining.exited, 0);
    assert.match(draining.stderr(), /waiting for the calls being served/);
    assert.deepEqual(await drainShim.directCalls(), ['VERSION ']);
    for (const [cid, pod] of [
      ['e0a0', warm],
      ['e0b0', held],
    ] as const) {
      assert.equal((await runCni(node, cniEnv('DEL', cid, pod), conf)).code, 0);
    }
  });
});
