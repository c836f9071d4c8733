import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, cidrsOverlap, cidrToName, formatCIDR, formatIP, hasHostBits, nameToCIDR, parseCIDR, parseIP } from '../src/net/ip.js';

test('parses and formats IPv4 and IPv6 like Go', () => {
  const cases: Array<[string, string]> = [
    ['10.0.0.1', '10.0.0.1'],
    ['fd00::1', 'fd00::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ];
  for (const [input, want] of cases) {
    const ip = parseIP(input);
    assert.ok(ip, input);
    assert.equal(formatIP(ip), want, input);
  }
});

test('rejects malformed addresses', () => {
  for (const bad of ['10.0.0', '10.0.0.256', '01.2.3.4', '1::2::3', 'fd00:::1', 'g::1', '1.2.3.4.5', '', 'fe80::1%eth0']) {
    assert.equal(parseIP(bad), undefined, bad);
  }
});

test('CIDRs: parse, canonical form, host bits, containment', () => {
  const c = parseCIDR('10.0.0.5/24');
  assert.ok(c);
  assert.equal(formatCIDR(c), '10.0.0.0/24');
  assert.equal(hasHostBits(c), true);
  assert.equal(hasHostBits(parseCIDR('10.0.0.0/24')!), false);
  assert.equal(parseCIDR('10.0.0.0/33'), undefined);
  assert.equal(parseCIDR('fd00::/129'), undefined);
  assert.equal(formatCIDR(parseCIDR('fd00:0::/122')!), 'fd00::/122');
  assert.equal(cidrContains(parseCIDR('10.0.0.0/16')!, parseCIDR('10.0.3.0/26')!), true);
  assert.equal(cidrContains(parseCIDR('10.0.0.0/26')!, parseCIDR('10.0.0.0/16')!), false);
  assert.equal(cidrsOverlap(parseCIDR('10.0.0.0/26')!, parseCIDR('10.0.0.0/16')!), true);
  assert.equal(cidrsOverlap(parseCIDR('10.1.0.0/16')!, parseCIDR('10.0.0.0/16')!), false);
  assert.equal(cidrsOverlap(parseCIDR('10.0.0.0/8')!, parseCIDR('fd00::/8')!), false);
});

test('CIDR names round-trip as Calico names them', () => {
  assert.equal(cidrToName('10.0.0.0/26'), '10-0-0-0-26');
  assert.equal(cidrToName('fd00::/122'), 'fd00---122');
  assert.equal(formatCIDR(nameToCIDR('10-0-0-0-26')!), '10.0.0.0/26');
  assert.equal(formatCIDR(nameToCIDR('fd00---122')!), 'fd00::/122');
  assert.equal(formatCIDR(nameToCIDR('fd00-1-2---64')!), 'fd00:1:2::/64');
  assert.equal(nameToCIDR('not-a-cidr'), undefined);
});
