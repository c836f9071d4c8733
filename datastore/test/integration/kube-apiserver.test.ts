/**
 * The kube-apiserver fixture against the real server it starts: the version built by setup,
 * kubectl round trips, the watch behaviour the Kubernetes datastore will rely on (where a 410
 * comes from and how it arrives), and a stop() that leaves no process behind.
 *
 * HTTP checks use node:https with the admin client certificate, as the KDD backend will: no
 * Kubernetes client library is involved.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { startKubeApiServer, type KubeApiServer } from '../../src/testing/index.js';

interface WatchEvent {
  type: string;
  object: { kind?: string; code?: number; reason?: string; message?: string; metadata?: { name?: string } };
}

describe('kube-apiserver fixture', () => {
  let kube: KubeApiServer;

  before(async () => {
    kube = await startKubeApiServer();
  });

  after(async () => {
    await kube?.stop();
  });

  test('/version reports the version setup built (v1.30.14)', async () => {
    const res = await get(kube, '/version');
    assert.equal(res.status, 200);
    const version = JSON.parse(res.body) as { gitVersion: string; major: string; minor: string };
    assert.equal(version.gitVersion, 'v1.30.14');
    assert.equal(version.major, '1');
    assert.equal(version.minor, '30');
    const client = JSON.parse(await kube.kubectl(['version', '--client', '-o', 'json'])) as { clientVersion: { gitVersion: string } };
    assert.equal(client.clientVersion.gitVersion, 'v1.30.14');
  });

  test('kubectl creates a namespace (with its default ServiceAccount) and a ConfigMap, and reads it back', async () => {
    await kube.ensureNamespace('fixture-a');
    await kube.ensureNamespace('fixture-a'); // idempotent
    assert.equal((await kube.kubectl(['get', 'serviceaccount', 'default', '-n', 'fixture-a', '-o', 'name'])).trim(), 'serviceaccount/default');
    await kube.kubectl(['create', 'configmap', 'cm1', '-n', 'fixture-a', '--from-literal=colour=teal']);
    const cm = JSON.parse(await kube.kubectl(['get', 'configmap', 'cm1', '-n', 'fixture-a', '-o', 'json'])) as { data: Record<string, string> };
    assert.deepEqual(cm.data, { colour: 'teal' });
    // The same object over HTTPS with the client certificate.
    const res = await get(kube, '/api/v1/namespaces/fixture-a/configmaps/cm1');
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { data: Record<string, string> }).data.colour, 'teal');
    await assert.rejects(kube.kubectl(['get', 'configmap', 'nope', '-n', 'fixture-a']), (e: Error & { code: string }) => {
      assert.equal(e.code, 'KUBE_START_FAILED');
      assert.match(e.message, /NotFound/);
      return true;
    });
  });

  /**
   * Where a watch's "too old" comes from, which is not where one might guess. A resource the
   * API server caches (nearly all: ConfigMaps, CRDs, so Calico's resources) is watched from
   * the watch cache, and a resourceVersion is too old only when it is older than the cache's
   * window: the revision the cache listed at when it started, or its oldest buffered event.
   * A fresh server's caches listed at etcd revision ~1, so "1" is *not* too old there: the
   * watch replays every change since. etcd compaction does not move that window either.
   */
  test('on a fresh server, a watch of a cached resource from resourceVersion "1" replays the changes since, compaction or not', async () => {
    await kube.ensureNamespace('fixture-r');
    const created = JSON.parse(await kube.kubectl(['create', 'configmap', 'cm-r', '-n', 'fixture-r', '--from-literal=k=v', '-o', 'json'])) as {
      metadata: { resourceVersion: string };
    };
    await kube.etcd.etcdctl('compact', created.metadata.resourceVersion);
    const { status, events } = await watchEvents(kube, '/api/v1/namespaces/fixture-r/configmaps?watch=true&resourceVersion=1', 1);
    assert.equal(status, 200);
    assert.equal(events[0]?.type, 'ADDED');
    assert.equal(events[0]?.object.metadata?.name, 'cm-r');
  });

  /**
   * What a KDD watcher must handle: a resourceVersion the server can no longer serve is not
   * refused with HTTP 410. The server answers 200, starts the stream, sends one event of type
   * ERROR whose object is a Status with code 410 (reason Expired), and ends the stream; the
   * watcher must relist and watch from the list's resourceVersion, as the etcd backend does
   * after ETCD_COMPACTED. Shown here on Events, which kube-apiserver does not cache (its
   * default --watch-cache-sizes sets them to 0), so their watch goes to etcd and a compaction
   * past the requested revision is what makes it too old. (For a cached resource the cache
   * sends the same event, message "too old resource version: N (M)", for a version older than
   * its window, e.g. after an API server restart: apiserver's watch_cache.go; not shown here.)
   */
  test('after etcd compaction, a watch from before it gets an in-stream ERROR event with code 410', async () => {
    await kube.ensureNamespace('fixture-w');
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e1', namespace: 'fixture-w' },
      involvedObject: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'fixture-w', name: 'default' },
      reason: 'Testing',
      message: 'an event to compact past',
      type: 'Normal',
    };
    const created = JSON.parse(await kube.kubectl(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify(event) })) as {
      metadata: { resourceVersion: string };
    };
    await kube.etcd.etcdctl('compact', created.metadata.resourceVersion);
    const { status, events } = await watchEvents(kube, '/api/v1/namespaces/fixture-w/events?watch=true&resourceVersion=1', 1);
    assert.equal(status, 200);
    assert.equal(events.length, 1);
    const [error] = events;
    assert.equal(error?.type, 'ERROR');
    assert.equal(error?.object.kind, 'Status');
    assert.equal(error?.object.code, 410);
    assert.equal(error?.object.reason, 'Expired');
    assert.match(error?.object.message ?? '', /too old/);
  });

  test('stop() ends kube-apiserver and its etcd and removes the temp dir', async () => {
    const pids = [kube.pid, kube.etcd.pid];
    assert.ok(pids.every((pid) => pid > 0 && isAlive(pid)));
    assert.ok(existsSync(kube.kubeconfigPath));
    await kube.stop();
    assert.deepEqual(
      pids.filter((pid) => isAlive(pid)),
      [],
    );
    assert.equal(existsSync(kube.kubeconfigPath), false);
    await kube.stop(); // idempotent
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

function get(kube: KubeApiServer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${kube.url}${path}`, { ca: kube.ca, cert: kube.clientCert, key: kube.clientKey, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Reads a watch stream (one JSON event per line) until `count` events arrived or the server ends it; at most 10 s. */
function watchEvents(kube: KubeApiServer, path: string, count: number): Promise<{ status: number; events: WatchEvent[] }> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const req = request(`${kube.url}${path}`, { ca: kube.ca, cert: kube.clientCert, key: kube.clientKey }, (res) => {
      const status = res.statusCode ?? 0;
      let buffered = '';
      const finish = (): void => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status, events });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) events.push(JSON.parse(line) as WatchEvent);
          if (events.length >= count) return finish();
        }
      });
      res.on('end', finish);
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`watch ${path}: ${events.length} of ${count} events within 10 s`)), 10_000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}
