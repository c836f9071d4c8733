// The config engine over a JSON document (the CNI network configuration): dotted paths into
// nested objects, values checked against their JSON types, "not given" spellings, Calico's shared
// environment names below the document, and every issue collected without a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { documentSource, expectation, parseTypedValue } from '../src/config/document.js';
import { collectConfig, ConfigError, envSource, loadConfig, namedEnvSource, type ConfigOf, type ParamTable } from '../src/config/params.js';

const TABLE = {
  nodename: { type: 'string', default: '', env: 'NODENAME', unset: [''], help: 'node' },
  mtu: { type: 'int', default: 0, min: 68, max: 65535, unset: [0], help: 'mtu' },
  log_level: { type: 'enum', default: 'info', values: ['debug', 'info'], help: 'level' },
  'ipam.assign_ipv4': { type: 'bool', default: true, unset: [''], help: 'v4' },
  'ipam.ipv4_pools': { type: 'list', default: [], expects: 'a list of pool CIDRs or names', help: 'pools' },
  'args.cni.ratio': { type: 'float', default: 0.5, min: 0, max: 1, help: 'ratio' },
} as const satisfies ParamTable;
type Conf = ConfigOf<typeof TABLE>;

function load(doc: Record<string, unknown>, env: Record<string, string> = {}): { config: Conf; messages: string[] } {
  const { config, issues } = collectConfig<Conf>(TABLE, [namedEnvSource(TABLE, env), documentSource(TABLE, 'netconf', doc)]);
  return { config, messages: issues.map((i) => `${i.param} ${i.message}`) };
}

test('dotted names are paths into nested objects, spelled as the document spells them', () => {
  const { config, messages } = load({
    mtu: 1450,
    ipam: { assign_ipv4: 'false', ipv4_pools: [' 10.0.0.0/8 '] },
    args: { cni: { ratio: 0.25 } },
    log_level: 'DEBUG',
  });
  assert.deepEqual(messages, []);
  assert.equal(config.mtu, 1450);
  assert.equal(config['ipam.assign_ipv4'], false);
  assert.deepEqual(config['ipam.ipv4_pools'], ['10.0.0.0/8']);
  assert.equal(config['args.cni.ratio'], 0.25);
  assert.equal(config.log_level, 'debug', 'enum values in the table spelling');
  assert.ok(Object.isFrozen(config));
});

test('a path through something that is not an object is absent, and only own keys are read', () => {
  assert.deepEqual(documentSource(TABLE, 'd', { ipam: 'x', args: { cni: [1] } }).values, {});
  const proto = documentSource({ 'a.constructor': { type: 'string', default: '', help: '' } }, 'd', { a: {} });
  assert.deepEqual(proto.values, {});
});

test('typed values: strict booleans, numbers or numeric strings in range, lists of non-empty strings', () => {
  assert.deepEqual(parseTypedValue(TABLE.mtu, '1500'), { value: 1500 });
  assert.deepEqual(parseTypedValue(TABLE['ipam.assign_ipv4'], true), { value: true });
  const { messages } = load({ mtu: 20, ipam: { assign_ipv4: 'yes', ipv4_pools: '10.0.0.0/8' }, args: { cni: { ratio: '2' } }, nodename: 7 });
  assert.deepEqual(messages, [
    'nodename must be a string, got 7',
    'mtu must be an integer in 68..65535, got 20',
    'ipam.assign_ipv4 must be "true" or "false", got "yes"',
    'ipam.ipv4_pools must be a list of pool CIDRs or names, got "10.0.0.0/8"',
    'args.cni.ratio must be a number in 0..1, got "2"',
  ]);
  assert.match(
    load({ mtu: 'big', log_level: 'loud' }).messages.join('\n'),
    /mtu must be an integer in 68\.\.65535, got "big"\nlog_level must be one of debug, info, got "loud"/,
  );
  assert.match(load({ ipam: { ipv4_pools: ['a', ''] } }).messages[0], /got \["a",""\]/);
  assert.equal(expectation({ type: 'int', default: 0, min: 1, help: '' }), 'an integer in 1..∞');
});

test('not given: null, and the spellings a parameter declares ("" or 0); the earlier source or the default stands', () => {
  const { config, messages } = load({ nodename: ' ', mtu: 0, ipam: { assign_ipv4: '', ipv4_pools: null } }, { NODENAME: 'from-env' });
  assert.deepEqual(messages, []);
  assert.equal(config.nodename, 'from-env');
  assert.equal(config.mtu, 0);
  assert.equal(config['ipam.assign_ipv4'], true);
  assert.equal(load({ mtu: '0' }).messages[0], 'mtu must be an integer in 68..65535, got "0"', 'only the declared spelling is unset');
  assert.equal(load({ mtu: '' }).messages[0], 'mtu must be an integer in 68..65535, got ""');
});

test('the document wins over the named environment variables; a bad document value leaves the environment one', () => {
  assert.equal(load({ nodename: 'from-doc' }, { NODENAME: 'from-env' }).config.nodename, 'from-doc');
  assert.equal(load({ nodename: 5 }, { NODENAME: 'from-env' }).config.nodename, 'from-env');
  assert.deepEqual(namedEnvSource(TABLE, { NODENAME: 'n', MTU: '9000' }).values, { nodename: 'n' }, 'only the names the table declares');
});

test('loadConfig takes typed sources beside text ones and throws every issue with its source', () => {
  const env = envSource(TABLE, 'CNI_', { CNI_MTU: '9000' });
  assert.equal(loadConfig<Conf>(TABLE, [env, documentSource(TABLE, 'netconf', {})]).mtu, 9000);
  assert.throws(
    () => loadConfig(TABLE, [env, documentSource(TABLE, 'netconf', { mtu: 70000 })]),
    (err: unknown) => err instanceof ConfigError && err.message === 'netconf: mtu: must be an integer in 68..65535, got 70000',
  );
});
