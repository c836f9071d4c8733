// The runtime's environment: required variables per command, CNI_ARGS, the pod identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCniArgs, parseCniEnv } from '../src/env.js';
import { CniError } from '../src/errors.js';

const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/p', CNI_IFNAME: 'eth0' };

function fails(env: Record<string, string>, pattern: RegExp): void {
  assert.throws(
    () => parseCniEnv(env),
    (err: unknown) => err instanceof CniError && err.code === 4 && pattern.test(err.message),
  );
}

test('a Kubernetes ADD', () => {
  const env = parseCniEnv({ ...base, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc123' });
  assert.equal(env.command, 'ADD');
  assert.deepEqual(env.pod, { namespace: 'shop', name: 'web-0', infraContainerId: 'abc123' });
  assert.equal(env.args.IgnoreUnknown, '1');
});

test('VERSION needs nothing else; the command is case-insensitive', () => {
  assert.equal(parseCniEnv({ CNI_COMMAND: 'version' }).command, 'VERSION');
});

test('missing or malformed variables are error 4 naming them', () => {
  fails({}, /CNI_COMMAND is not set/);
  fails({ ...base, CNI_COMMAND: 'GC' }, /CNI_COMMAND "GC" is not supported/);
  fails({ ...base, CNI_CONTAINERID: '' }, /CNI_CONTAINERID is not set/);
  fails({ ...base, CNI_CONTAINERID: 'a/b' }, /CNI_CONTAINERID "a\/b"/);
  fails({ ...base, CNI_NETNS: '' }, /CNI_NETNS is not set \(required for ADD\)/);
  fails({ ...base, CNI_NETNS: 'relative' }, /CNI_NETNS "relative" is not an absolute path/);
  fails({ ...base, CNI_IFNAME: 'a-very-long-interface' }, /CNI_IFNAME/);
  fails({ ...base, CNI_ARGS: 'K8S_POD_NAME=x' }, /K8S_POD_NAME without K8S_POD_NAMESPACE/);
  fails({ ...base, CNI_ARGS: 'garbage' }, /CNI_ARGS: "garbage" is not KEY=VALUE/);
});

test('DEL may come without a namespace path; without pod args the container names the workload', () => {
  const env = parseCniEnv({ ...base, CNI_COMMAND: 'DEL', CNI_NETNS: '' });
  assert.equal(env.netns, '');
  assert.equal(env.pod, undefined);
  assert.deepEqual(parseCniArgs('A=1; B = 2 ;;C='), { A: '1', B: '2', C: '' });
});
