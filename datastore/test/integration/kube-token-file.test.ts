// A bearer token from a file, against a real kube-apiserver: the file is read again a minute
// after the last read (so a token the kubelet rotated is picked up) and at once after a 401
// (so a rotated token never locks a long-running component out), as client-go's cached file
// token source does. The clock is the client's injected one; the requests are real.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, KubeHttpError, TOKEN_FILE_REREAD_MS } from '../../src/kdd/kube-client.js';
import { startKubeApiServer, whoAmI, type KubeApiServer } from '../../src/testing/index.js';

const NS = 'token-file';
let kube: KubeApiServer;
let dir: string;

const tokenOf = async (sa: string) => (await kube.kubectl(['create', 'token', sa, '-n', NS, '--duration', '10m'])).trim();

before(async () => {
  kube = await startKubeApiServer();
  dir = await mkdtemp(join(tmpdir(), 'cattail-token-file-'));
  await kube.ensureNamespace(NS);
  for (const sa of ['first', 'second']) {
    await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: NS } }) });
  }
});

after(async () => {
  await kube?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a token file is read again after a minute, and at once after a 401', async () => {
  const file = join(dir, 'token');
  const first = await tokenOf('first');
  await writeFile(file, `${first}\n`);
  let now = 1_000_000;
  const client = new KubeClient({ server: kube.url, ca: kube.ca, token: first, tokenFile: file }, { now: () => now });
  assert.equal(await whoAmI(client), `system:serviceaccount:${NS}:first`);

  // Within the minute the token read is used, whatever the file says now.
  await writeFile(file, 'not-a-token\n');
  now += TOKEN_FILE_REREAD_MS - 1;
  assert.equal(await whoAmI(client), `system:serviceaccount:${NS}:first`);

  // A minute on, the file is read again: its (bad) token is refused…
  now += 1;
  await assert.rejects(whoAmI(client), (err: unknown) => err instanceof KubeHttpError && err.statusCode === 401);

  // …and the 401 makes the next request read the file again, with no time passing.
  await writeFile(file, `${await tokenOf('second')}\n`);
  assert.equal(await whoAmI(client), `system:serviceaccount:${NS}:second`);
  client.close();
});

test('a token given without a file is used as given', async () => {
  const client = new KubeClient({ server: kube.url, ca: kube.ca, token: await tokenOf('first') }, { now: () => Number.MAX_SAFE_INTEGER });
  assert.equal(await whoAmI(client), `system:serviceaccount:${NS}:first`);
  client.close();
});
