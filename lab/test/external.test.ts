import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatExternalTable, parseEchoSources } from '../src/index.js';

test('echo sources from `nft -j list set`: plain and timeout-carrying elements, other items ignored', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      {
        set: {
          family: 'inet',
          name: 'echo-sources',
          elem: [{ concat: [4242, '172.31.9.1'] }, { elem: { val: { concat: [4243, '10.66.0.5'] }, timeout: 300 } }, { concat: ['x', 1] }],
        },
      },
    ],
  });
  assert.deepEqual(
    [...parseEchoSources(json)],
    [
      [4242, '172.31.9.1'],
      [4243, '10.66.0.5'],
    ],
  );
  assert.deepEqual([...parseEchoSources('{"nftables": [{"set": {"name": "echo-sources"}}]}')], []);
});

test('the external probe table: a row per pod with the source seen', () => {
  const text = formatExternalTable({
    address: '172.31.9.253',
    results: [
      { from: 'frontend/web-1-1', reachable: true, sourceSeen: '172.31.9.1' },
      { from: 'backend/db-1-2', reachable: false, sourceSeen: null },
    ],
  });
  assert.equal(
    text,
    [
      'FROM              TO 172.31.9.253  SOURCE SEEN',
      'frontend/web-1-1  ok               172.31.9.1',
      'backend/db-1-2    --               -',
      '1/2 reachable',
      '',
    ].join('\n'),
  );
});
