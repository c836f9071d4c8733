import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliHarness } from './cli-harness.js';

test('selector test prints true or false and exits 0', async (t) => {
  const h = await CliHarness.create(t);
  const yes = await h.run(['selector', 'test', "app == 'web' && !has(canary)", '--labels-json', '{"app":"web"}']);
  assert.deepEqual(yes, { code: 0, stdout: 'true\n', stderr: '' });
  const no = await h.run(['selector', 'test', "app == 'web' && !has(canary)", '--labels-json={"app":"web","canary":""}']);
  assert.deepEqual(no, { code: 0, stdout: 'false\n', stderr: '' });
  const noLabels = await h.run(['selector', 'test', 'all()']);
  assert.deepEqual(noLabels, { code: 0, stdout: 'true\n', stderr: '' });
  assert.equal(h.connects, 0, 'selector test never needs the datastore');
});

test('a selector syntax error exits 2 with a caret under the position', async (t) => {
  const h = await CliHarness.create(t);
  const text = "app == 'web' & tier == 'x'";
  const r = await h.run(['selector', 'test', text, '--labels-json', '{}']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n');
  assert.match(lines[0], /^invalid selector: .* at position (\d+), expected /);
  const position = Number(/at position (\d+)/.exec(lines[0])![1]);
  assert.equal(lines[1], `  ${text}`);
  assert.equal(lines[2], `  ${' '.repeat(position)}^`);
  assert.equal(text[position], '&', 'the caret points at the offending character');
});

test('invalid --labels-json exits 2 with a clear message', async (t) => {
  const h = await CliHarness.create(t);
  const notJson = await h.run(['selector', 'test', 'all()', '--labels-json', '{app: web}']);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /^invalid --labels-json: /);

  const notObject = await h.run(['selector', 'test', 'all()', '--labels-json', '["a"]']);
  assert.equal(notObject.code, 2);
  assert.equal(notObject.stderr, 'invalid --labels-json: must be a JSON object such as {"app":"web"}\n');

  const notString = await h.run(['selector', 'test', 'all()', '--labels-json', '{"replicas":3}']);
  assert.equal(notString.code, 2);
  assert.equal(notString.stderr, 'invalid --labels-json: the value of label "replicas" must be a string\n');
});

test('selector usage errors exit 2 too', async (t) => {
  const h = await CliHarness.create(t);
  const missing = await h.run(['selector', 'test']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^SELECTOR is required\n\nUsage:\n {2}cattail selector test <SELECTOR>/);
  const badFlag = await h.run(['selector', 'test', 'all()', '--labels', '{}']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /^unknown flag --labels\n/);
  const noSub = await h.run(['selector']);
  assert.equal(noSub.code, 2);
  const help = await h.run(['selector', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Commands:\n {4}test +Evaluate a selector/);
});
