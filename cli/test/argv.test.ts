import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgv, type FlagSpec } from '../src/argv.js';
import { UsageError } from '../src/errors.js';

const SPECS: FlagSpec[] = [
  { name: 'filename', short: 'f', value: 'FILENAME', help: '' },
  { name: 'output', short: 'o', value: 'OUTPUT', help: '' },
  { name: 'all-namespaces', short: 'A', help: '' },
];

test('long, short, attached and = forms all give the value', () => {
  for (const argv of [['--filename', 'a.yaml'], ['--filename=a.yaml'], ['-f', 'a.yaml'], ['-fa.yaml'], ['-f=a.yaml']]) {
    assert.equal(parseArgv(argv, SPECS).string('filename'), 'a.yaml', argv.join(' '));
  }
});

test('flags and positionals interleave; - is a value; -- ends flags', () => {
  const a = parseArgv(['ippool', '-o', 'yaml', 'pool-a', '-A', '-f', '-'], SPECS);
  assert.deepEqual(a.positionals, ['ippool', 'pool-a']);
  assert.equal(a.string('output'), 'yaml');
  assert.equal(a.string('filename'), '-');
  assert.equal(a.bool('all-namespaces'), true);
  assert.deepEqual(parseArgv(['--', '-x', '--y'], SPECS).positionals, ['-x', '--y']);
});

test('unknown flags, missing values, values on booleans and repeats are usage errors', () => {
  assert.throws(
    () => parseArgv(['--bogus'], SPECS),
    (e: unknown) => e instanceof UsageError && e.message === 'unknown flag --bogus',
  );
  assert.throws(() => parseArgv(['-x'], SPECS), /unknown flag -x/);
  assert.throws(() => parseArgv(['-o'], SPECS), /flag -o needs a value \(OUTPUT\)/);
  assert.throws(() => parseArgv(['-A=yes'], SPECS), /flag -A takes no value/);
  assert.throws(() => parseArgv(['--all-namespaces=true'], SPECS), /takes no value/);
  assert.throws(() => parseArgv(['-o', 'yaml', '--output', 'json'], SPECS), /flag --output was given more than once/);
});

test('stopAtPositional leaves the command and its arguments untouched', () => {
  const specs: FlagSpec[] = [{ name: 'log-level', short: 'l', value: 'level', help: '' }];
  const a = parseArgv(['-l', 'debug', 'get', '--bogus', '-o', 'yaml'], specs, { stopAtPositional: true });
  assert.equal(a.string('log-level'), 'debug');
  assert.deepEqual(a.rest, ['get', '--bogus', '-o', 'yaml']);
});
