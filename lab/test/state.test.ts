import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabStateError, STATE_VERSION, etcdEndpoint, parseState, readState, statePath, typhaAddrs, writeState, type LabState } from '../src/index.js';

function sample(): LabState {
  return {
    version: STATE_VERSION,
    id: 'demo',
    prefix: 'ctlab-demo',
    mode: 'bgp',
    createdAt: '2026-12-01T20:00:00.000Z',
    podsPerNode: 2,
    poolCidr: '10.66.0.0/16',
    etcd: { clientPort: 23790, peerPort: 23791, dataDir: '/x/etcd' },
    typhas: [
      { index: 1, port: 5473, healthPort: 9098 },
      { index: 2, port: 5474, healthPort: 9099 },
    ],
    nodes: [],
    pods: [],
    processes: { etcd: { pid: 42, startTime: 7, role: 'etcd', argv: ['etcd'], log: '/x/etcd.log' } },
    namespaces: ['ctlab-demo-fab'],
    links: ['ctlab-demo-fab:br0'],
  };
}

test('the state file round-trips and is replaced atomically', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctlab-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(readState(dir), undefined, 'no file: no lab');
  writeState(dir, sample());
  assert.deepEqual(readState(dir), sample());
  writeState(dir, { ...sample(), mode: 'vxlan' });
  assert.equal(readState(dir)?.mode, 'vxlan');
  assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file left behind');
  assert.equal(etcdEndpoint(sample()), 'http://127.0.0.1:23790');
  assert.equal(typhaAddrs(sample()), '127.0.0.1:5473,127.0.0.1:5474');
});

test('a damaged state file is an error that says how to clean up', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctlab-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(statePath(dir), '{"version": 1, "id": ');
  assert.throws(
    () => readState(dir),
    (err: Error) => err instanceof LabStateError && /not JSON/.test(err.message) && /lab down/.test(err.message),
  );
  assert.throws(() => parseState(JSON.stringify({ ...sample(), version: 99 })), /version 99/);
  assert.throws(() => parseState(JSON.stringify({ ...sample(), mode: 'ipip' })), /mode ipip/);
  const { nodes: _n, ...noNodes } = sample();
  assert.throws(() => parseState(JSON.stringify(noNodes)), /nodes is not a list/);
});
