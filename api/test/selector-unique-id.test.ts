import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { parseSelector } from '../src/selector/index.js';
import { sha224 } from '../src/selector/sha224.js';
import { base64UrlRaw, makeUniqueId } from '../src/selector/unique-id.js';

const utf8 = new TextEncoder();

function nodeSha224(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha224').update(bytes).digest());
}

describe('sha224', () => {
  it('matches node:crypto for every length across the padding boundaries', () => {
    // 55/56 and 119/120 bytes are where the length field stops fitting in the last block.
    for (let len = 0; len <= 200; len++) {
      const data = new Uint8Array(len);
      for (let i = 0; i < len; i++) data[i] = (i * 131 + len * 7) & 0xff;
      assert.deepEqual(sha224(data), nodeSha224(data), `length ${len}`);
    }
  });

  it('matches the FIPS 180-2 test vector for "abc"', () => {
    const hex = Array.from(sha224(utf8.encode('abc')), (b) => b.toString(16).padStart(2, '0')).join('');
    assert.equal(hex, '23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7');
  });

  it('handles a multi-kilobyte input', () => {
    const data = utf8.encode('projectcalico.org/namespace == "x" && '.repeat(300));
    assert.deepEqual(sha224(data), nodeSha224(data));
  });
});

describe('base64UrlRaw', () => {
  it('matches Buffer base64url (unpadded) for every remainder length', () => {
    for (let len = 0; len <= 12; len++) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 97 + 251) & 0xff);
      assert.equal(base64UrlRaw(data), Buffer.from(data).toString('base64url'), `length ${len}`);
    }
  });
});

describe('selector uniqueId', () => {
  // Expected IDs are copied from libcalico-go's parser_test.go canonicalisation table, so these
  // prove byte-for-byte agreement with Calico's String() + UniqueID().
  const calicoVectors: Array<[string, string, string]> = [
    ['', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
    [' all() ', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
    [' (all() )', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
    ['! (has( b)||! has(a ))', '!(has(b) || !has(a))', 's:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q'],
    ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")', 's:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w'],
  ];
  for (const [input, canonical, id] of calicoVectors) {
    it(`${JSON.stringify(input)} has Calico's ID ${id}`, () => {
      const sel = parseSelector(input);
      assert.equal(sel.toString(), canonical);
      assert.equal(sel.uniqueId(), id);
    });
  }

  it('is the hash of "s:" + canonical form, including non-ASCII literals', () => {
    const sel = parseSelector("name == 'café 😀' && tier in {'b', 'a'}");
    const expected = `s:${createHash('sha224').update(`s:${sel.toString()}`, 'utf8').digest('base64url')}`;
    assert.equal(sel.uniqueId(), expected);
    assert.equal(makeUniqueId('s', sel.toString()), expected);
  });

  it('is stable across calls and parses, and differs for different selectors', () => {
    const a = parseSelector("a == 'x'");
    assert.equal(a.uniqueId(), a.uniqueId());
    assert.equal(parseSelector('a=="x"').uniqueId(), a.uniqueId());
    assert.notEqual(parseSelector("a == 'y'").uniqueId(), a.uniqueId());
    assert.notEqual(parseSelector("a != 'x'").uniqueId(), a.uniqueId());
    assert.match(a.uniqueId(), /^s:[A-Za-z0-9_-]{38}$/);
  });
});
