// The CNI kubeconfig token refresher with a fake clock and a fake issuer: the token goes into
// the kubeconfig with its server and CA kept (0600, replaced whole), the next refresh is a
// quarter of the way to the expiry, failures are retried 5 s, 10 s, … later, stop() ends it;
// and the ServiceAccount is read from a token's `sub` claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '@cattail/datastore/kdd';
import { FakeClock } from '@cattail/typha/testing';
import { CniTokenRefresher, serviceAccountOfToken, type IssuedToken } from '../src/cni-token.js';
import { silentLogger } from '../src/log.js';

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

test('serviceAccountOfToken reads namespace and name from the sub claim, and refuses anything else', () => {
  assert.deepEqual(serviceAccountOfToken(jwt({ sub: 'system:serviceaccount:cattail-system:cattail-node' })), {
    namespace: 'cattail-system',
    name: 'cattail-node',
  });
  assert.throws(() => serviceAccountOfToken('opaque'), /not a JWT/);
  assert.throws(() => serviceAccountOfToken(jwt({ sub: 'admin' })), /not issued to a ServiceAccount/);
  assert.throws(() => serviceAccountOfToken('a.!!!.c'), /cannot be read|not issued/);
});

/** install-cni's kubeconfig, in YAML as the script writes it. */
const INSTALLED = `apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: https://10.96.0.1:443
      certificate-authority-data: ${Buffer.from('the-ca').toString('base64')}
users:
  - name: cattail-cni
    user:
      token: pod-bound-token
contexts:
  - name: cattail-cni
    context: { cluster: local, user: cattail-cni }
current-context: cattail-cni
`;

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'cattail-cni-token-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'cattail-kubeconfig');
  await writeFile(path, INSTALLED, { mode: 0o644 });
  const clock = new FakeClock();
  let wall = Date.parse('2026-12-04T00:00:00Z');
  const validity = 86400;
  const issued: string[] = [];
  let failNext = 0;
  let attempts = 0;
  /** Resolvers of the refreshes awaited by the test: each write or failure settles one. */
  let settled: () => void = () => undefined;
  const next = () => new Promise<void>((resolve) => (settled = resolve));
  const refresher = new CniTokenRefresher({
    kubeconfigPath: path,
    validitySecs: validity,
    logger: silentLogger,
    clock,
    now: () => wall,
    clusterFallback: () => {
      throw new Error('the file exists: no fallback wanted');
    },
    issue: async (secs): Promise<IssuedToken> => {
      assert.equal(secs, validity);
      attempts++;
      if (failNext > 0) {
        failNext--;
        queueMicrotask(() => settled());
        throw new Error('the API server said no');
      }
      const token = `token-${issued.length + 1}`;
      issued.push(token);
      return { token, expiresAtMs: wall + secs * 1000 };
    },
    onRefreshed: () => settled(),
  });
  return {
    dir,
    path,
    clock,
    refresher,
    issued,
    next,
    failNextIssues: (n: number) => (failNext = n),
    attempts: () => attempts,
    advanceWall: (ms: number) => (wall += ms),
  };
}

test('a refresh writes the token with server and CA kept, mode 0600, and the next comes at a quarter of the validity', async (t) => {
  const s = await setup(t);
  await s.refresher.start();
  const kc = loadKubeConfig(s.path);
  assert.equal(kc.token, 'token-1');
  assert.equal(kc.server, 'https://10.96.0.1:443');
  assert.equal(kc.ca?.toString(), 'the-ca');
  assert.equal((await stat(s.path)).mode & 0o777, 0o600);
  assert.deepEqual(
    (await readdir(s.dir)).filter((f) => f !== 'cattail-kubeconfig'),
    [],
    'no temporary file left',
  );
  assert.equal(s.refresher.status().refreshes, 1);
  assert.equal(s.refresher.status().expires, '2026-12-05T00:00:00.000Z');

  // Not before a quarter of the way (6 h of 24 h) …
  s.clock.advance(6 * 3600_000 - 1);
  assert.deepEqual(s.issued, ['token-1']);
  // … then at it.
  const second = s.next();
  s.advanceWall(6 * 3600_000);
  s.clock.advance(1);
  await second;
  assert.deepEqual(s.issued, ['token-1', 'token-2']);
  assert.equal(loadKubeConfig(s.path).token, 'token-2');
  assert.match(await readFile(s.path, 'utf8'), /"current-context": "cattail-cni"/);
  await s.refresher.stop();
});

test('a failed refresh is retried after 5 s, then 10 s; a success resets the back-off; stop() ends the schedule', async (t) => {
  const s = await setup(t);
  s.failNextIssues(2);
  await s.refresher.start();
  assert.equal(s.refresher.status().failures, 1);
  assert.match(s.refresher.status().lastError ?? '', /the API server said no/);
  assert.equal(loadKubeConfig(s.path).token, 'pod-bound-token', 'the installed token stays until one is issued');

  let attempt = s.next();
  s.clock.advance(4_999);
  assert.equal(s.attempts(), 1);
  s.clock.advance(1);
  await attempt;
  assert.equal(s.refresher.status().failures, 2);

  attempt = s.next();
  s.clock.advance(9_999);
  assert.equal(s.attempts(), 2);
  s.clock.advance(1);
  await attempt;
  assert.deepEqual(s.issued, ['token-1']);
  assert.equal(s.refresher.status().lastError, undefined);
  assert.equal(loadKubeConfig(s.path).token, 'token-1');

  assert.equal(s.attempts(), 3);

  await s.refresher.stop();
  s.clock.advance(48 * 3600_000);
  assert.equal(s.attempts(), 3, 'nothing after stop()');
});
