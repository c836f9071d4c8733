// The agent's pipeline with a recording BirdControl, a fake clock and real files in a temp
// dir: when it renders, what it writes, when it reloads, and that every failure leaves the
// live file and BIRD as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@cattail/api';
import {
  BgpModelStore,
  BirdUnreachableError,
  ConfdAgent,
  ConfigCheckError,
  ReloadRejectedError,
  formatMetrics,
  renderBirdConfig,
  type BirdControl,
} from '../../src/index.js';
import { FakeClock } from '@cattail/typha/testing';
import { bgpUpdates, block, deletion, node, peer, pool } from '../helpers/resources.js';

const BASE: Resource[] = [
  node('node-a', { ipv4: '172.31.0.1/24' }),
  node('node-b', { ipv4: '172.31.0.2/24' }),
  pool('pool-a', '10.65.0.0/16'),
  block('10.65.1.0/26', 'node-a'),
];

/** Records what confd asks of BIRD; `refuse` and `configureError` make it fail. */
class RecordingBird implements BirdControl {
  checked: string[] = [];
  configures = 0;
  refuse: (text: string) => string | undefined = () => undefined;
  configureError: () => Error | undefined = () => undefined;

  async check(file: string): Promise<void> {
    const text = readFileSync(file, 'utf8');
    this.checked.push(text);
    const why = this.refuse(text);
    if (why) throw new ConfigCheckError(why);
  }

  async configure(): Promise<string> {
    this.configures++;
    const err = this.configureError();
    if (err) throw err;
    return '0003 Reconfigured';
  }
}

function setup(t: { after(fn: () => void | Promise<void>): void }, opts: { reconcileIntervalMs?: number; existing?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ctcd-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bird.cfg');
  if (opts.existing !== undefined) writeFileSync(file, opts.existing);
  const clock = new FakeClock(1_000);
  const bird = new RecordingBird();
  const agent = new ConfdAgent({
    nodeName: 'node-a',
    configFile: file,
    bird,
    clock,
    wallClock: () => Date.UTC(2025, 0, 1),
    debounceMs: 100,
    reconcileIntervalMs: opts.reconcileIntervalMs ?? 0,
  });
  t.after(() => agent.close());
  /** Advance the clock and wait for the reconcile it started. */
  const tick = async (ms: number) => {
    clock.advance(ms);
    await agent.idle();
  };
  return { dir, file, clock, bird, agent, tick };
}

function expectedText(resources: Resource[]): string {
  const store = new BgpModelStore();
  store.apply(bgpUpdates(resources));
  return renderBirdConfig(store.model(), 'node-a').text;
}

async function syncedWith(s: ReturnType<typeof setup>, resources: Resource[], revision = 1): Promise<void> {
  await s.agent.start();
  s.agent.onStatus('resync', { revision: 0 });
  s.agent.onUpdates(bgpUpdates(resources, revision), revision);
  s.agent.onStatus('in-sync', { revision });
  await s.tick(100);
}

test('nothing is rendered before the first in-sync', async (t) => {
  const s = setup(t);
  await s.agent.start();
  s.agent.onStatus('resync', { revision: 0 });
  s.agent.onUpdates(bgpUpdates(BASE), 1);
  await s.tick(10_000);
  assert.equal(s.bird.checked.length, 0);
  assert.equal(existsSync(s.file), false);
  assert.equal(s.agent.ready, false);
  assert.equal(s.agent.status().counters.renders, 0);
});

test('first in-sync: the candidate is checked, renamed over the live file, and BIRD reconfigured', async (t) => {
  const s = setup(t);
  await syncedWith(s, BASE);
  const text = expectedText(BASE);
  assert.equal(readFileSync(s.file, 'utf8'), text);
  assert.deepEqual(s.bird.checked, [text], 'bird -p saw exactly the text that was installed');
  assert.equal(s.bird.configures, 1);
  assert.equal(existsSync(join(s.dir, '.bird.cfg.candidate')), false, 'candidate left behind');
  const st = s.agent.status();
  assert.equal(st.lastResult, 'installed');
  assert.equal(st.config.sessions, 1);
  assert.equal(st.config.installed, true);
  assert.equal(st.config.reloadPending, false);
  assert.equal(st.lastError, undefined);
  assert.equal(s.agent.ready, true);
});

test('an update that renders the same text neither writes nor reloads', async (t) => {
  const s = setup(t);
  await syncedWith(s, BASE);
  const mtime = statSync(s.file).mtimeMs;
  // A label change no selector reads, and a re-sent identical pool.
  s.agent.onUpdates(bgpUpdates([node('node-b', { ipv4: '172.31.0.2/24', labels: { zone: 'z1' } }), pool('pool-a', '10.65.0.0/16')], 2), 2);
  await s.tick(100);
  assert.equal(s.agent.status().lastResult, 'unchanged');
  assert.equal(s.agent.status().counters.unchanged, 1);
  assert.equal(s.bird.configures, 1);
  assert.equal(s.bird.checked.length, 1);
  assert.equal(statSync(s.file).mtimeMs, mtime);
});

test('changes within the window render once; a later change renders again', async (t) => {
  const s = setup(t);
  await syncedWith(s, BASE);
  const renders = s.agent.status().counters.renders;
  s.agent.onUpdates(bgpUpdates([node('node-c', { ipv4: '172.31.0.3/24' })], 2), 2);
  await s.tick(50);
  s.agent.onUpdates(bgpUpdates([node('node-d', { ipv4: '172.31.0.4/24' })], 3), 3);
  await s.tick(40);
  assert.equal(s.agent.status().counters.renders, renders, 'rendered before the window closed');
  await s.tick(10);
  assert.equal(s.agent.status().counters.renders, renders + 1);
  assert.match(readFileSync(s.file, 'utf8'), /neighbor 172\.31\.0\.3 as/);
  assert.match(readFileSync(s.file, 'utf8'), /neighbor 172\.31\.0\.4 as/);
  s.agent.onUpdates([deletion('Node', 'node-d', 4)], 4);
  await s.tick(100);
  assert.equal(s.agent.status().counters.renders, renders + 2);
  assert.doesNotMatch(readFileSync(s.file, 'utf8'), /172\.31\.0\.4/);
  assert.equal(s.bird.configures, 3);
});

test('a candidate bird -p refuses is never installed, is not re-checked, and clears when fixed', async (t) => {
  const s = setup(t, { reconcileIntervalMs: 1_000 });
  await syncedWith(s, BASE);
  const good = readFileSync(s.file, 'utf8');
  s.bird.refuse = (text) => (text.includes('192.0.2.66') ? 'bird.cfg:80:1 Keepalive time must be at most hold time' : undefined);
  s.agent.onUpdates(bgpUpdates([peer('bad', { peerIP: '192.0.2.66', asNumber: 65001, keepaliveTime: '1h' })], 2), 2);
  await s.tick(100);
  assert.equal(readFileSync(s.file, 'utf8'), good, 'the live file changed');
  assert.equal(existsSync(join(s.dir, '.bird.cfg.candidate')), false);
  assert.equal(s.bird.configures, 1, 'BIRD was reloaded after a failed check');
  const st = s.agent.status();
  assert.equal(st.lastResult, 'failed');
  assert.equal(st.lastError?.stage, 'check');
  assert.equal(st.lastError?.code, 'CONFD_CHECK_FAILED');
  assert.match(st.lastError?.message ?? '', /Keepalive time must be at most hold time/);
  assert.equal(st.counters.failures.check, 1);
  assert.equal(s.agent.ready, true, 'BIRD still runs a good configuration');
  assert.match(formatMetrics(st), /^confd_config_failures_total\{stage="check"\} 1$/m);
  assert.match(formatMetrics(st), /^confd_config_ok 0$/m);

  // Periodic reconciles render the same refused text: no new bird -p, no new count.
  const checks = s.bird.checked.length;
  await s.tick(1_000);
  await s.tick(1_000);
  assert.equal(s.bird.checked.length, checks);
  assert.equal(s.agent.status().counters.failures.check, 1);

  s.agent.onUpdates([deletion('BGPPeer', 'bad', 3)], 3);
  await s.tick(100);
  assert.equal(s.agent.status().lastError, undefined);
  assert.equal(s.agent.status().lastResult, 'unchanged', 'the good text is still the live one');
  assert.match(formatMetrics(s.agent.status()), /^confd_config_ok 1$/m);
});

test('BIRD not running: the file is in place, the reload is retried each interval, ready once it answers', async (t) => {
  const s = setup(t, { reconcileIntervalMs: 500 });
  let up = false;
  s.bird.configureError = () => (up ? undefined : new BirdUnreachableError('BIRD control socket /x: No such file or directory'));
  await syncedWith(s, BASE);
  assert.equal(readFileSync(s.file, 'utf8'), expectedText(BASE));
  let st = s.agent.status();
  assert.equal(st.lastError?.stage, 'reload');
  assert.equal(st.lastError?.code, 'CONFD_BIRD_UNREACHABLE');
  assert.equal(st.config.reloadPending, true);
  assert.equal(s.agent.ready, false);
  await s.tick(500);
  assert.equal(s.bird.configures, 2, 'no retry after the interval');
  assert.equal(s.bird.checked.length, 1, 'the unchanged text was checked again');
  up = true;
  await s.tick(500);
  st = s.agent.status();
  assert.equal(st.lastResult, 'reloaded');
  assert.equal(st.lastError, undefined);
  assert.equal(st.config.reloadPending, false);
  assert.equal(s.agent.ready, true);
  await s.tick(500);
  assert.equal(s.bird.configures, 3, 'reloaded again with nothing to apply');
});

test('BIRD refuses a reload the check let through: the last good file is put back', async (t) => {
  const s = setup(t);
  await syncedWith(s, BASE);
  const good = readFileSync(s.file, 'utf8');
  s.bird.configureError = () => new ReloadRejectedError('8002 bird.cfg:3:1 syntax error');
  s.agent.onUpdates(bgpUpdates([node('node-c', { ipv4: '172.31.0.3/24' })], 2), 2);
  await s.tick(100);
  assert.equal(readFileSync(s.file, 'utf8'), good);
  const st = s.agent.status();
  assert.equal(st.lastError?.code, 'CONFD_RELOAD_REJECTED');
  assert.equal(st.counters.failures.reload, 1);
  assert.equal(st.config.reloadPending, false, 'the file is again what BIRD runs');
});

test('a model that cannot be rendered for this node installs nothing and says why', async (t) => {
  const s = setup(t);
  await syncedWith(s, [node('node-b', { ipv4: '172.31.0.2/24' })]);
  assert.equal(existsSync(s.file), false);
  assert.equal(s.bird.checked.length, 0);
  const st = s.agent.status();
  assert.equal(st.lastError?.stage, 'render');
  assert.match(st.lastError?.message ?? '', /node node-a is not in the datastore/);
  assert.equal(st.counters.failures.render, 1);
});

test('during a resync nothing is rendered; the next in-sync renders the whole model', async (t) => {
  const s = setup(t, { reconcileIntervalMs: 200 });
  await syncedWith(s, BASE);
  s.agent.onStatus('disconnected', { revision: 1 });
  s.agent.onStatus('resync', { revision: 1 });
  s.agent.onUpdates(bgpUpdates([node('node-c', { ipv4: '172.31.0.3/24' })], 2), 2);
  const renders = s.agent.status().counters.renders;
  await s.tick(1_000);
  assert.equal(s.agent.status().counters.renders, renders);
  s.agent.onStatus('in-sync', { revision: 2 });
  await s.tick(100);
  assert.equal(s.agent.status().counters.renders, renders + 1);
  assert.match(readFileSync(s.file, 'utf8'), /neighbor 172\.31\.0\.3 as/);
});

test('an existing live file identical to the first render is adopted without a reload', async (t) => {
  const s = setup(t, { existing: expectedText(BASE) });
  await syncedWith(s, BASE);
  assert.equal(s.agent.status().lastResult, 'unchanged');
  assert.equal(s.bird.configures, 0);
  assert.equal(s.bird.checked.length, 0);
  assert.equal(s.agent.ready, true);
});

test('close() stops the timers: nothing runs afterwards', async (t) => {
  const s = setup(t, { reconcileIntervalMs: 100 });
  await syncedWith(s, BASE);
  await s.agent.close();
  const renders = s.agent.status().counters.renders;
  s.agent.onUpdates(bgpUpdates([node('node-c', { ipv4: '172.31.0.3/24' })], 2), 2);
  await s.tick(1_000);
  assert.equal(s.agent.status().counters.renders, renders);
  assert.equal(s.clock.pending, 0);
  assert.equal(s.agent.ready, false);
});
