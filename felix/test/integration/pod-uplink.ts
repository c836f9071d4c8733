/**
 * The kernel tests' smallest node: a node namespace with one IPv4 pod wired as the CNI plugin
 * wires it (host side `cali<tag>` with MAC ee:…, the pod's /32 and its 169.254.1.1 gateway), and
 * an uplink `eth0` to an upstream namespace on 198.51.100.0/24 that routes the pool back to the
 * node and is the node's default route (proxy ARP answers the pod only for what the node can
 * route). Everything is removed when the test ends.
 *
 *   pod 10.65.0.5 ── cali<tag> ┤ node eth0 198.51.100.1 ├── eth0 198.51.100.2 upstream
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { createNetns, deleteNetns, run, uniquePrefix } from '../../src/testing/netns.js';

export const NODE_ADDR = '198.51.100.1';
export const UP_ADDR = '198.51.100.2';
export const POD_ADDR = '10.65.0.5';

export interface PodUplink {
  node: string;
  pod: string;
  up: string;
  /** The pod's host-side interface. */
  iface: string;
}

/** Makes the three namespaces; `upExtra` are more addresses on the upstream's eth0 (CIDRs). */
export async function podUplink(t: TestContext, name: string, upExtra: string[] = []): Promise<PodUplink> {
  const prefix = uniquePrefix(name);
  const [node, pod, up] = [`${prefix}-node`, `${prefix}-pod`, `${prefix}-up`];
  const iface = `cali${prefix.slice(5)}`;
  t.after(async () => {
    for (const ns of [pod, node, up]) await deleteNetns(ns);
  });
  for (const ns of [node, pod, up]) await createNetns(ns);
  await run('ip', ['-n', node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', up]);
  await run('ip', ['-n', node, 'addr', 'add', `${NODE_ADDR}/24`, 'dev', 'eth0']);
  for (const a of [`${UP_ADDR}/24`, ...upExtra]) await run('ip', ['-n', up, 'addr', 'add', a, 'dev', 'eth0']);
  for (const ns of [node, up]) await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', up, 'route', 'add', '10.65.0.0/16', 'via', NODE_ADDR]);
  await run('ip', ['-n', node, 'route', 'add', 'default', 'via', UP_ADDR]);
  await run('ip', ['-n', node, 'link', 'add', iface, 'address', 'ee:ee:ee:ee:ee:ee', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
  await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', pod, 'addr', 'add', `${POD_ADDR}/32`, 'dev', 'eth0']);
  await run('ip', ['-n', pod, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  return { node, pod, up, iface };
}

/**
 * Runs `script` with Node in `ns` until the test ends (killed by its own child handle); the
 * script prints `ready <port>` once listening, and that port is returned (10 s at most).
 */
export async function startServerIn(t: TestContext, ns: string, script: string): Promise<number> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const ready = new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /ready (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server in ${ns} exited with ${code}`)));
  });
  return Promise.race([ready, once(AbortSignal.timeout(10_000), 'abort').then(() => assert.fail(`server in ${ns} not listening within 10 s`))]);
}
