// The build's plan without building: the app closure taken from package-lock.json (what Node
// needs at run time, nothing the build or the tests need), and image/Containerfile kept in
// step with the daemonless build (same Debian packages, same entrypoint, same staging code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appClosure } from '../src/app.js';
import { BASE_PACKAGES, REPO_ROOT } from '../src/build.js';

test('the app closure holds the CLI, the packages it imports and their production dependencies only', () => {
  const { locations, items } = appClosure(REPO_ROOT, ['cli']);
  for (const needed of [
    'cli',
    'api',
    'datastore',
    'typha',
    'felix',
    'confd',
    'controllers',
    'lab',
    'cni',
    'node_modules/pino',
    'node_modules/@grpc/grpc-js',
    'node_modules/yaml',
  ]) {
    assert.ok(locations.includes(needed), `${needed} is in the closure`);
  }
  for (const devOnly of [
    'node_modules/typescript',
    'node_modules/eslint',
    'node_modules/prettier',
    'node_modules/esbuild',
    'node_modules/postject',
    'image',
    'helm',
    'bench',
  ]) {
    assert.ok(!locations.includes(devOnly), `${devOnly} is not in the closure`);
  }
  const paths = items.map((i) => i.path);
  assert.ok(paths.includes('/opt/cattail/node_modules/@cattail/cli'));
  assert.ok(paths.includes('/opt/cattail/node_modules/pino'));
  // A workspace package carries its compiled source and bin scripts, not tests or sources.
  const cli = items.find((i) => i.path === '/opt/cattail/node_modules/@cattail/cli');
  assert.ok(cli && 'exclude' in cli && cli.exclude);
  assert.equal(cli.exclude('package.json'), false);
  assert.equal(cli.exclude('bin/cattail.js'), false);
  assert.equal(cli.exclude('dist/src/main.js'), false);
  assert.equal(cli.exclude('dist/src/main.d.ts'), true);
  assert.equal(cli.exclude('dist/test'), true);
  assert.equal(cli.exclude('src'), true);
});

test('image/Containerfile installs the daemonless base’s packages and stages the same app', () => {
  const cf = readFileSync(join(REPO_ROOT, 'image', 'Containerfile'), 'utf8');
  const install = /apt-get install -y --no-install-recommends ([^\\\n&]+)/.exec(cf)?.[1]?.trim().split(/\s+/) ?? [];
  assert.deepEqual([...install].sort(), [...BASE_PACKAGES].sort());
  assert.match(cf, /node image\/dist\/src\/main\.js stage \/stage/);
  assert.match(cf, /^ENTRYPOINT \["\/usr\/local\/bin\/cattail"\]$/m);
  assert.match(cf, /^FROM node:20-bookworm-slim$/m, 'Node at /usr/local/bin/node on Debian bookworm, as the daemonless image');
});
