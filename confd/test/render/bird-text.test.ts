import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIP, parseIP } from '@cattail/api';
import { addressOf, asNumberOf, birdString, compareIP, durationSeconds, parsePeerAddress, protocolName, routerIdFromName } from '../../src/render/bird-text.js';

test('birdString quotes what BIRD can read and refuses what it cannot', () => {
  assert.equal(birdString('tor pass #1'), '"tor pass #1"');
  assert.equal(birdString('back\\slash'), '"back\\slash"', 'a backslash is literal in BIRD strings');
  assert.equal(birdString('a"b'), undefined);
  assert.equal(birdString('line\nbreak'), undefined);
  assert.equal(birdString('tab\there'), undefined);
});

test('protocol names are BIRD symbols built from the address and port', () => {
  assert.equal(protocolName('Mesh', parseIP('10.0.0.2')!, undefined), 'Mesh_10_0_0_2');
  assert.equal(protocolName('Node', parseIP('fd00::2')!, 1179), 'Node_fd00__2_port_1179');
  assert.match(protocolName('Global', parseIP('2001:db8::1:2')!, undefined), /^[A-Za-z_][A-Za-z0-9_]*$/);
});

test('node addresses lose their prefix length; the wrong family is no address', () => {
  assert.equal(formatIP(addressOf('172.31.0.1/24', 4)!), '172.31.0.1');
  assert.equal(formatIP(addressOf('fd00:0::1/64', 6)!), 'fd00::1');
  assert.equal(formatIP(addressOf('10.0.0.1', 4)!), '10.0.0.1');
  assert.equal(addressOf('10.0.0.1/24', 6), undefined);
  assert.equal(addressOf('nonsense', 4), undefined);
  assert.equal(addressOf(undefined, 4), undefined);
});

test('addresses compare numerically, not as text', () => {
  assert.ok(compareIP(parseIP('10.0.0.9')!, parseIP('10.0.0.10')!) < 0);
  assert.ok(compareIP(parseIP('10.0.1.0')!, parseIP('10.0.0.255')!) > 0);
  assert.equal(compareIP(parseIP('fd00::1')!, parseIP('fd00:0::1')!), 0);
});

test('AS numbers: plain, string and dotted; 0 and out of range are no AS', () => {
  assert.equal(asNumberOf(64512), 64512);
  assert.equal(asNumberOf('65001'), 65001);
  assert.equal(asNumberOf('1.10'), 65546);
  assert.equal(asNumberOf(0), undefined);
  assert.equal(asNumberOf('4294967296'), undefined);
  assert.equal(asNumberOf('x'), undefined);
});

test('peer addresses: bare, IPv4 with port, bracketed IPv6 with port', () => {
  assert.deepEqual(parsePeerAddress('192.0.2.1'), { ip: parseIP('192.0.2.1'), port: undefined });
  assert.deepEqual(parsePeerAddress('192.0.2.1:1179'), { ip: parseIP('192.0.2.1'), port: 1179 });
  assert.deepEqual(parsePeerAddress('[fd00::1]:1179'), { ip: parseIP('fd00::1'), port: 1179 });
  assert.deepEqual(parsePeerAddress('fd00::1'), { ip: parseIP('fd00::1'), port: undefined });
  assert.equal(parsePeerAddress('192.0.2.1:0'), undefined);
  assert.equal(parsePeerAddress('[192.0.2.1]:179'), undefined);
  assert.equal(parsePeerAddress('peer.example'), undefined);
});

test('Go durations become whole seconds; a positive duration is at least 1 s', () => {
  assert.equal(durationSeconds('90s'), 90);
  assert.equal(durationSeconds('1m30s'), 90);
  assert.equal(durationSeconds('1.5h'), 5400);
  assert.equal(durationSeconds('500ms'), 1);
  assert.equal(durationSeconds('0'), 0);
  assert.equal(durationSeconds('10'), undefined);
  assert.equal(durationSeconds('5s junk'), undefined);
  assert.equal(durationSeconds(undefined), undefined);
});

test('a router id from a name is stable, IPv4-shaped and differs between names', () => {
  const id = routerIdFromName('node-v6');
  assert.equal(id, routerIdFromName('node-v6'));
  assert.match(id, /^\d{1,3}(\.\d{1,3}){3}$/);
  assert.notEqual(id, '0.0.0.0');
  assert.notEqual(routerIdFromName('node-v7'), id);
});
