import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from '../src/output/table.js';

test('columns are the widest cell plus 3, at least 5, every cell padded (Go tabwriter 5,1,3)', () => {
  assert.equal(
    formatTable([
      ['NAME', 'CIDR'],
      ['a', '10.0.0.0/8'],
      ['long-name', ''],
    ]),
    'NAME        CIDR         \n' + 'a           10.0.0.0/8   \n' + 'long-name                \n',
  );
  assert.equal(formatTable([['ID']]), 'ID   \n');
  assert.equal(formatTable([]), '');
});

test('width counts characters, not UTF-16 units', () => {
  assert.equal(
    formatTable([
      ['🐟', 'x'],
      ['ab', 'y'],
    ]),
    '🐟    x    \nab   y    \n',
  );
});
