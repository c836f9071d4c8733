import assert from 'node:assert/strict';
import { until } from '@cattail/datastore/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkClientIdentity, uriSans } from '../../src/server/index.js';
import { Harness, TestClient } from './helpers.js';

const URI_SAN = 'spiffe://cluster.local/ns/calico-system/sa/calico-node';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Pem {
  cert: string;
  key: string;
}

/**
 * A CA, a server certificate for 127.0.0.1, and client certificates, made with openssl. Two
 * carry several CNs in their subject (openssl keeps the order given): `lastGood` ends with the
 * allowed CN, `firstGood` starts with it.
 */
function makePki(dir: string): { ca: string; server: Pem; good: Pem; bad: Pem; uri: Pem; stranger: Pem; lastGood: Pem; firstGood: Pem } {
  const key = (name: string) => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', `${name}.key`]);
  const ca = (name: string) => {
    key(name);
    openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
  };
  const leaf = (name: string, cn: string | string[], ext: string, signer = 'ca') => {
    key(name);
    const subj = (Array.isArray(cn) ? cn : [cn]).map((c) => `/CN=${c}`).join('');
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.crt`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]);
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'typha', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  leaf('good', 'typha-client', 'extendedKeyUsage=clientAuth');
  leaf('bad', 'intruder', 'extendedKeyUsage=clientAuth');
  leaf('uri', 'some-node', `subjectAltName=URI:${URI_SAN}\nextendedKeyUsage=clientAuth`);
  leaf('stranger', 'typha-client', 'extendedKeyUsage=clientAuth', 'other-ca');
  leaf('last-good', ['intruder', 'typha-client'], 'extendedKeyUsage=clientAuth');
  leaf('first-good', ['typha-client', 'intruder'], 'extendedKeyUsage=clientAuth');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const pem = (n: string): Pem => ({ cert: read(`${n}.crt`), key: read(`${n}.key`) });
  return {
    ca: read('ca.crt'),
    server: pem('server'),
    good: pem('good'),
    bad: pem('bad'),
    uri: pem('uri'),
    stranger: pem('stranger'),
    lastGood: pem('last-good'),
    firstGood: pem('first-good'),
  };
}

test('TLS: client certificates are checked against the CA and the allowed CN or URI SAN', async (t) => {
  assert.ok(haveOpenssl(), 'this test needs the openssl command (Debian: apt-get install openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'typha-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir);
  const h = await Harness.start(t, {
    initialKeys: 3,
    tls: { ca: pki.ca, cert: pki.server.cert, key: pki.server.key, clientCN: 'typha-client', clientURISAN: URI_SAN },
  });
  const url = `wss://127.0.0.1:${h.port}/sync`;
  const connect = (who?: Pem) => new TestClient(url, { wsOptions: { ca: pki.ca, ...(who ?? {}) } });

  const good = connect(pki.good);
  const uri = connect(pki.uri);
  t.after(() => [good, uri].forEach((c) => c.close()));
  await Promise.all([good.untilInSync(), uri.untilInSync()]);
  assert.equal(good.hello?.mode, 'snapshot');
  assert.equal(good.state.size, 3);
  assert.equal(uri.state.size, 3, 'accepted by its URI SAN although its CN is not allowed');

  const bad = connect(pki.bad);
  await bad.untilClosed();
  assert.equal(bad.httpStatus, 403);
  assert.match(
    bad.httpBody,
    /client certificate not allowed: want CN "typha-client" or URI SAN "spiffe:\/\/cluster\.local\/ns\/calico-system\/sa\/calico-node", got CN "intruder"; URI SANs none/,
  );
  assert.equal(bad.opened, false);

  const anonymous = connect();
  const stranger = connect(pki.stranger);
  for (const c of [anonymous, stranger]) {
    await c.until((x) => x.closed !== undefined || x.error !== undefined);
    assert.equal(c.opened, false, 'refused in the TLS handshake');
    assert.ok(c.error, 'the client sees an error');
  }
  assert.deepEqual(
    h.server
      .connections()
      .clients.map((c) => c.state)
      .sort(),
    ['live', 'live'],
  );
  // Handed to TLS and counted through the TLS socket: nothing stays pending once in sync. With
  // fan-out workers the refused sockets close in a worker process, reported asynchronously.
  await until(
    () => h.server.connections().tcp.pendingHandshakes === 0,
    () => `pending handshakes: ${h.server.connections().tcp.pendingHandshakes}`,
  );
});

test('TLS: a certificate with several CNs is judged by its last CN only, as Calico (Go Subject.CommonName)', async (t) => {
  assert.ok(haveOpenssl(), 'this test needs the openssl command (Debian: apt-get install openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'typha-tls-cn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir);
  const h = await Harness.start(t, { initialKeys: 2, tls: { ca: pki.ca, cert: pki.server.cert, key: pki.server.key, clientCN: 'typha-client' } });
  const url = `wss://127.0.0.1:${h.port}/sync`;
  const lastGood = new TestClient(url, { wsOptions: { ca: pki.ca, ...pki.lastGood } });
  const firstGood = new TestClient(url, { wsOptions: { ca: pki.ca, ...pki.firstGood } });
  t.after(() => [lastGood, firstGood].forEach((c) => c.close()));
  await lastGood.untilInSync();
  assert.equal(lastGood.state.size, 2, 'subject /CN=intruder/CN=typha-client: its CN is typha-client');
  await firstGood.untilClosed();
  assert.equal(firstGood.httpStatus, 403, 'subject /CN=typha-client/CN=intruder: its CN is intruder');
  assert.match(firstGood.httpBody, /want CN "typha-client", got CN "intruder" \(the last of "typha-client", "intruder", as Calico reads it\)/);
});

test('client identity rule: the last CN or a URI SAN, as Calico checks it', () => {
  const cert = (cn: string | string[] | undefined, san?: string) => ({
    subject: cn === undefined ? ({} as never) : ({ CN: cn } as never),
    subjectaltname: san,
  });
  assert.equal(checkClientIdentity({}, cert('anyone')), undefined, 'no rule: any certificate from the CA');
  assert.equal(checkClientIdentity({ clientCN: 'felix' }, cert('felix')), undefined);
  assert.equal(checkClientIdentity({ clientCN: 'felix' }, cert(['x', 'felix'])), undefined, 'several CNs: the last one is the name');
  assert.match(checkClientIdentity({ clientCN: 'felix' }, cert(['felix', 'x'])) ?? '', /got CN "x" \(the last of "felix", "x", as Calico reads it\)/);
  assert.equal(checkClientIdentity({ clientCN: 'felix', clientURISAN: 'spiffe://a/b' }, cert(['felix', 'x'], 'URI:spiffe://a/b')), undefined, 'or its URI SAN');
  assert.match(checkClientIdentity({ clientCN: 'felix' }, cert('confd')) ?? '', /want CN "felix", got CN "confd"; URI SANs none/);
  assert.equal(checkClientIdentity({ clientURISAN: 'spiffe://a/b' }, cert('x', 'DNS:n1, URI:spiffe://a/b')), undefined);
  assert.match(
    checkClientIdentity({ clientCN: 'f', clientURISAN: 'spiffe://a/b' }, cert(undefined, 'URI:spiffe://a/c')) ?? '',
    /got CN none; URI SANs "spiffe:\/\/a\/c"/,
  );
  assert.equal(checkClientIdentity({ clientCN: 'f' }, undefined), 'no client certificate presented');
  assert.deepEqual(uriSans('DNS:a, URI:spiffe://x/y, IP Address:127.0.0.1, URI:"urn:a,b"'), ['spiffe://x/y', 'urn:a,b']);
  assert.deepEqual(uriSans(''), []);
});
