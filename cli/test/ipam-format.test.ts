// The number formats and the boxed table of the ipam commands, against calicoctl's published
// output (Go's %.5g and %.f, go-pretty's default table).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goG5, goPercent } from '../src/commands/ipam-show.js';
import { formatBoxTable } from '../src/output/box-table.js';

test('goG5 prints as Go %.5g: five significant digits, no trailing zeros, exponent from 1e5', () => {
  assert.equal(goG5(0), '0');
  assert.equal(goG5(5), '5');
  assert.equal(goG5(64), '64');
  assert.equal(goG5(65536), '65536');
  assert.equal(goG5(65531), '65531');
  assert.equal(goG5(1048576), '1.0486e+06');
  assert.equal(goG5(4194304), '4.1943e+06');
  assert.equal(goG5(2 ** 80), '1.2089e+24');
  assert.equal(goG5(100000), '1e+05');
});

test('goPercent rounds as Go %.f: halves to even', () => {
  assert.equal(goPercent((100 * 5) / 65536), '0');
  assert.equal(goPercent((100 * 5) / 64), '8');
  assert.equal(goPercent((100 * 59) / 64), '92');
  assert.equal(goPercent(12.5), '12');
  assert.equal(goPercent(13.5), '14');
  assert.equal(goPercent(100), '100');
});

test('formatBoxTable: centered headings (odd space to the right), chosen columns right-aligned', () => {
  assert.equal(
    formatBoxTable(
      ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'],
      [['IP Pool', '100.64.0.0/10', '4.1943e+06', '13 (0%)', '4.1943e+06 (100%)']],
      [2],
    ),
    [
      '+----------+---------------+------------+------------+-------------------+',
      '| GROUPING |     CIDR      | IPS TOTAL  | IPS IN USE |     IPS FREE      |',
      '+----------+---------------+------------+------------+-------------------+',
      '| IP Pool  | 100.64.0.0/10 | 4.1943e+06 | 13 (0%)    | 4.1943e+06 (100%) |',
      '+----------+---------------+------------+------------+-------------------+',
      '',
    ].join('\n'),
  );
  assert.equal(formatBoxTable(['IP', 'NODE'], []), ['+----+------+', '| IP | NODE |', '+----+------+', ''].join('\n'));
});
