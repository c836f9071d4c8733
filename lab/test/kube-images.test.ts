import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, writeOciArchive } from '../src/index.js';
import { hasInterpreter } from '../src/kube-images.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('writeOciArchive: an OCI layout whose digests, sizes, name and layer contents hold', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cattail-oci-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const prog = join(dir, 'prog');
  writeFileSync(prog, '#!/bin/sh\necho hi\n');
  chmodSync(prog, 0o755);
  const archive = join(dir, 'img.tar');
  await writeOciArchive({ ref: 'cattail.local/test:7', files: { 'bin/prog': prog }, links: { 'bin/alias': 'prog' }, entrypoint: ['/bin/prog'] }, archive);

  const out = join(dir, 'out');
  await run('mkdir', [out]);
  await run('tar', ['-xf', archive, '-C', out]);
  const blob = (digest: string) => readFileSync(join(out, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; size: number; annotations: Record<string, string> }>;
  };
  assert.equal(index.manifests.length, 1);
  const m = index.manifests[0];
  assert.equal(m.annotations['io.containerd.image.name'], 'cattail.local/test:7');
  const manifestData = blob(m.digest);
  assert.equal(sha(manifestData), m.digest);
  assert.equal(manifestData.length, m.size);
  const manifest = JSON.parse(manifestData.toString()) as {
    config: { digest: string; size: number };
    layers: Array<{ digest: string; size: number; mediaType: string }>;
  };
  const config = JSON.parse(blob(manifest.config.digest).toString()) as { config: { Entrypoint: string[] }; rootfs: { diff_ids: string[] } };
  assert.deepEqual(config.config.Entrypoint, ['/bin/prog']);
  const layer = blob(manifest.layers[0].digest);
  assert.equal(sha(layer), manifest.layers[0].digest);
  assert.equal(layer.length, manifest.layers[0].size);
  // Uncompressed: the diff id is the layer's own digest.
  assert.deepEqual(config.rootfs.diff_ids, [manifest.layers[0].digest]);
  writeFileSync(join(dir, 'layer.tar'), layer);
  const listing = await run('tar', ['-tvf', join(dir, 'layer.tar')]);
  assert.match(listing, /^-rwxr-xr-x 0\/0 .* \.\/bin\/prog$/m);
  assert.match(listing, /^lrwxrwxrwx 0\/0 .* \.\/bin\/alias -> prog$/m);

  // The same inputs give the same archive.
  const again = join(dir, 'again.tar');
  await writeOciArchive({ ref: 'cattail.local/test:7', files: { 'bin/prog': prog }, links: { 'bin/alias': 'prog' }, entrypoint: ['/bin/prog'] }, again);
  assert.equal(sha(readFileSync(again)), sha(readFileSync(archive)));
});

test('hasInterpreter tells a dynamic executable from a static one', () => {
  // This machine's node is dynamically linked; the pause binary setup.sh builds is static, but
  // may be missing in a unit run, so a static ELF is made by hand: a header and no program headers.
  assert.equal(hasInterpreter(readFileSync(process.execPath)), true);
  const bare = Buffer.alloc(64);
  bare.writeUInt32BE(0x7f454c46, 0);
  bare[4] = 2;
  assert.equal(hasInterpreter(bare), false);
  assert.equal(hasInterpreter(Buffer.from('#!/bin/sh\n')), false);
});
