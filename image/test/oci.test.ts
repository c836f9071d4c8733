// The OCI writer against independent readers: GNU tar unpacks the archive and every layer (so
// the tar headers, pax records and gzip are what other tools read), and the layout is checked
// blob by blob (sha256, sizes, media types, ref name). Bad input fails before anything is
// written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageInputError, MEDIA_TYPE, REF_NAME_ANNOTATION, verifyOciLayout, writeOciArchive, type LayerSpec } from '../src/index.js';

const LONG_DIR = `deep/${'d'.repeat(90)}/${'e'.repeat(90)}`; // > 100 bytes: ustar prefix split
const VERY_LONG = `${'x'.repeat(120)}/${'y'.repeat(120)}`; // a 120-byte component: pax path

async function fixture(t: import('node:test').TestContext): Promise<{ dir: string; tree: string; bin: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cattail-oci-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'etc'), { recursive: true });
  await mkdir(join(tree, LONG_DIR), { recursive: true });
  await mkdir(join(tree, VERY_LONG.split('/')[0]), { recursive: true });
  await writeFile(join(tree, 'etc', 'hello.txt'), 'hello\n');
  await writeFile(join(tree, LONG_DIR, 'file.txt'), 'deep\n');
  await writeFile(join(tree, VERY_LONG), 'long\n');
  await writeFile(join(tree, 'grüße.txt'), 'utf8 name\n');
  await link(join(tree, 'etc', 'hello.txt'), join(tree, 'etc', 'hardlink.txt'));
  await symlink('hello.txt', join(tree, 'etc', 'link'));
  await writeFile(join(tree, 'run.sh'), '#!/bin/sh\necho ok\n');
  await chmod(join(tree, 'run.sh'), 0o4755);
  const bin = join(dir, 'tool');
  await writeFile(bin, Buffer.alloc(3 * 1024 * 1024 + 17, 7)); // several chunks, not a block multiple
  await chmod(bin, 0o755);
  return { dir, tree, bin };
}

function layers(tree: string, bin: string): LayerSpec[] {
  return [
    tree,
    {
      comment: 'items',
      items: [
        { path: '/usr/local/bin/tool', file: bin },
        { path: '/etc/motd', content: 'cattail\n', mode: 0o600, uid: 1000, gid: 1001 },
        { path: '/bin/tool', symlink: '../usr/local/bin/tool' },
        { path: '/tmp', directory: true, mode: 0o1777 },
        { path: '/opt/copy', tree: join(tree, 'etc') },
      ],
    },
  ];
}

test('an OCI archive: layout, digests, media types and ref name hold; GNU tar reads every layer as written', async (t) => {
  const { dir, tree, bin } = await fixture(t);
  const out = join(dir, 'out', 'image.oci.tar');
  const res = await writeOciArchive({
    layers: layers(tree, bin),
    config: { entrypoint: ['/bin/tool'], cmd: ['--help'], env: ['PATH=/usr/bin:/bin'], workingDir: '/work', labels: { a: 'b' } },
    refName: 'example/tool:1.0',
    out,
  });
  assert.equal(res.layers.length, 2);
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['image.oci.tar'], 'the staging directory is removed and only the archive remains');

  const layout = join(dir, 'layout');
  await mkdir(layout);
  execFileSync('tar', ['-xf', out, '-C', layout]);
  assert.deepEqual((await readdir(layout)).sort(), ['blobs', 'index.json', 'oci-layout']);
  const v = await verifyOciLayout(layout);
  assert.equal(v.refName, 'example/tool:1.0');
  assert.equal(v.manifestDigest, res.manifestDigest);
  assert.deepEqual(
    v.layers.map((l) => l.digest),
    res.layers.map((l) => l.digest),
  );
  assert.deepEqual(v.config.config, { Env: ['PATH=/usr/bin:/bin'], Entrypoint: ['/bin/tool'], Cmd: ['--help'], WorkingDir: '/work', Labels: { a: 'b' } });
  assert.equal(v.config.os, 'linux');
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  assert.equal(index.mediaType, MEDIA_TYPE.index);
  assert.equal(index.manifests[0].mediaType, MEDIA_TYPE.manifest);
  assert.equal(index.manifests[0].annotations[REF_NAME_ANNOTATION], 'example/tool:1.0');
  // Every blob is referenced: manifest, config, two layers.
  assert.equal((await readdir(join(layout, 'blobs', 'sha256'))).length, 4);

  // Each layer unpacked by GNU tar; its uncompressed sha256 is the config's diff_id.
  const rootfs = join(dir, 'rootfs');
  await mkdir(rootfs);
  for (const [i, l] of v.layers.entries()) {
    const blob = join(layout, 'blobs', 'sha256', l.digest.slice('sha256:'.length));
    const raw = execFileSync('gzip', ['-dc', blob], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, v.config.rootfs.diff_ids[i], `layer ${i} diff_id`);
    execFileSync('tar', ['-xzf', blob, '-C', rootfs, '--numeric-owner', '--same-permissions']);
  }
  assert.equal(await readFile(join(rootfs, 'etc', 'hello.txt'), 'utf8'), 'hello\n');
  assert.equal(await readFile(join(rootfs, LONG_DIR, 'file.txt'), 'utf8'), 'deep\n');
  assert.equal(await readFile(join(rootfs, VERY_LONG), 'utf8'), 'long\n');
  assert.equal(await readFile(join(rootfs, 'grüße.txt'), 'utf8'), 'utf8 name\n');
  assert.equal(await readlink(join(rootfs, 'etc', 'link')), 'hello.txt');
  assert.equal(await readlink(join(rootfs, 'bin', 'tool')), '../usr/local/bin/tool');
  const hard = await lstat(join(rootfs, 'etc', 'hardlink.txt'));
  assert.equal(hard.ino, (await lstat(join(rootfs, 'etc', 'hello.txt'))).ino, 'a hard link stays a hard link');
  assert.equal((await lstat(join(rootfs, 'run.sh'))).mode & 0o7777, 0o4755, 'setuid kept');
  assert.equal((await lstat(join(rootfs, 'tmp'))).mode & 0o7777, 0o1777);
  const motd = await lstat(join(rootfs, 'etc', 'motd'));
  assert.equal(motd.mode & 0o777, 0o600);
  assert.equal(motd.uid, 1000);
  assert.equal(motd.gid, 1001);
  assert.deepEqual(await readFile(join(rootfs, 'usr', 'local', 'bin', 'tool')), await readFile(bin));
  assert.equal(await readFile(join(rootfs, 'opt', 'copy', 'hello.txt'), 'utf8'), 'hello\n');

  // GNU tar's listing: fixed mtimes, numeric owners, entries sorted.
  const blob1 = join(layout, 'blobs', 'sha256', v.layers[1].digest.slice('sha256:'.length));
  const listing = execFileSync('tar', ['-tvzf', blob1, '--numeric-owner', '--full-time'], { encoding: 'utf8' }).trim().split('\n');
  for (const line of listing) assert.match(line, / 1970-01-01 00:00:00 /, line);
  const names = execFileSync('tar', ['-tzf', blob1], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(
    names,
    [...names].sort((a, b) => Buffer.compare(Buffer.from(a.replace(/\/$/, '')), Buffer.from(b.replace(/\/$/, '')))),
  );
});

test('the same inputs give the same digests, whatever the files’ times', async (t) => {
  const { dir, tree, bin } = await fixture(t);
  const a = await writeOciArchive({ layers: layers(tree, bin), config: { cmd: ['x'] }, refName: 'r:1', out: join(dir, 'a.tar') });
  await writeFile(join(tree, 'etc', 'hello.txt'), 'hello\n'); // same bytes, new mtime
  const b = await writeOciArchive({ layers: layers(tree, bin), config: { cmd: ['x'] }, refName: 'r:1', out: join(dir, 'b.tar') });
  assert.equal(a.manifestDigest, b.manifestDigest);
  assert.deepEqual(await readFile(join(dir, 'a.tar')), await readFile(join(dir, 'b.tar')));
  await writeFile(join(tree, 'run.sh'), 'changed\n'); // in the tree layer only
  const c = await writeOciArchive({ layers: layers(tree, bin), config: { cmd: ['x'] }, refName: 'r:1', out: join(dir, 'c.tar') });
  assert.notEqual(c.layers[0].digest, a.layers[0].digest);
  assert.equal(c.layers[1].digest, a.layers[1].digest, 'the untouched layer keeps its digest');
});

test('bad input: a clear error and nothing written', async (t) => {
  const { dir, tree, bin } = await fixture(t);
  const out = join(dir, 'bad.tar');
  const cases: Array<[string, Parameters<typeof writeOciArchive>[0], RegExp]> = [
    ['escape', { layers: [{ items: [{ path: '../etc/passwd', content: 'x' }] }], config: {}, refName: 'r:1', out }, /leaves the image root/],
    [
      'duplicate',
      {
        layers: [
          {
            items: [
              { path: '/a', content: 'x' },
              { path: 'a', content: 'y' },
            ],
          },
        ],
        config: {},
        refName: 'r:1',
        out,
      },
      /both claim \/a/,
    ],
    ['missing source', { layers: [{ items: [{ path: '/a', file: join(dir, 'nope') }] }], config: {}, refName: 'r:1', out }, /cannot read .*nope/],
    [
      'file under file',
      {
        layers: [
          {
            items: [
              { path: '/a', content: 'x' },
              { path: '/a/b', content: 'y' },
            ],
          },
        ],
        config: {},
        refName: 'r:1',
        out,
      },
      /\/a is a file/,
    ],
    ['ref', { layers: [tree], config: {}, refName: 'bad ref', out }, /not an image reference/],
    ['env', { layers: [tree], config: { env: ['NOVALUE'] }, refName: 'r:1', out }, /not NAME=value/],
    ['no layers', { layers: [], config: {}, refName: 'r:1', out }, /at least one layer/],
    ['tree is a file', { layers: [bin], config: {}, refName: 'r:1', out }, /is not a directory/],
  ];
  for (const [name, opts, msg] of cases) {
    await assert.rejects(writeOciArchive(opts), (err: unknown) => {
      assert.ok(err instanceof ImageInputError, name);
      assert.equal(err.code, 'IMAGE_BAD_INPUT');
      assert.match(err.message, msg, name);
      return true;
    });
    assert.equal(existsSync(out), false, `${name}: nothing written`);
  }
  assert.deepEqual((await readdir(dir)).sort(), ['tool', 'tree'], 'no staging directory left behind');
});
