import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ValidationIssue } from '../src/errors.js';
import { arr, checkValues, closest, decodeStrict, int, mapOf, obj, oneOf, str, type Infer, type Validated } from '../src/validation/schema.js';

const schema = obj(
  {
    mode: oneOf(['Always', 'Never'] as const),
    loose: oneOf(['Insert', 'Append'] as const, { ci: true }),
    size: int(1, 10),
    items: arr(obj({ name: str() }, { required: ['name'] })),
    tags: mapOf(str()),
    slots: arr(int(0, undefined, { nullable: true })),
  },
  { required: ['mode'] },
);

function check(value: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkValues(value, schema, 'spec', issues);
  return issues;
}

test('decodeStrict drops and reports unknown fields at any depth, and drops null fields', () => {
  const issues: ValidationIssue[] = [];
  const out = decodeStrict({ mode: 'Always', bogus: 1, size: null, items: [{ name: 'a', nmae: 'b' }], tags: { x: 'y', gone: null } }, schema, 'spec', issues);
  assert.deepEqual(out, { mode: 'Always', items: [{ name: 'a' }], tags: { x: 'y' } });
  assert.deepEqual(issues, [
    { path: 'spec.bogus', message: 'unknown field "bogus"' },
    { path: 'spec.items[0].nmae', message: 'unknown field "nmae" (did you mean "name"?)' },
  ]);
});

test('checkValues reports types, enums, ranges and required fields with paths', () => {
  assert.deepEqual(check({ mode: 'Always' }), []);
  assert.deepEqual(check({}), [{ path: 'spec.mode', message: 'is required' }]);
  assert.deepEqual(check({ mode: 'Sometimes', size: 11, items: [{}], tags: { 'a.b': 3 } }), [
    { path: 'spec.mode', message: '"Sometimes" is not one of Always, Never' },
    { path: 'spec.size', message: '11 is outside 1..10' },
    { path: 'spec.items[0].name', message: 'is required' },
    { path: 'spec.tags["a.b"]', message: 'expected a string, got number 3' },
  ]);
  assert.deepEqual(check({ mode: 'Never', loose: 'append' }), [], 'case-insensitive enum');
  assert.deepEqual(check({ mode: 'Never', slots: [0, null, 2] }), [], 'nullable items');
  assert.deepEqual(check({ mode: 'Never', items: [null] }), [{ path: 'spec.items[0]', message: 'must not be null: expected an object' }]);
  assert.deepEqual(check('x'), [{ path: 'spec', message: 'expected an object, got string "x"' }]);
});

test('closest suggests case fixes, typos and swaps, but not unrelated words', () => {
  const known = ['blockSize', 'natOutgoing', 'ports', 'notPorts', 'ipipMode'];
  assert.equal(closest('blocksize', known), 'blockSize');
  assert.equal(closest('natOutgong', known), 'natOutgoing');
  assert.equal(closest('prots', known), 'ports');
  assert.equal(closest('color', known), undefined);
  assert.equal(closest('ab', known), undefined);
});

test('Infer gives the spec type a schema describes', () => {
  const value: Infer<typeof schema> = { mode: 'Always', size: 3, items: [{ name: 'x' }], tags: { a: 'b' } };
  // @ts-expect-error: "Sometimes" is not in the enum
  const wrong: Infer<typeof schema> = { mode: 'Sometimes' };
  assert.equal(value.mode, 'Always');
  assert.ok(wrong);
});

test('Infer makes required fields required; Validated adds what the checker lets through as unset', () => {
  // @ts-expect-error: mode is required
  const missing: Infer<typeof schema> = { size: 3 };
  // @ts-expect-error: an item's name is required
  const missingInItem: Infer<typeof schema> = { mode: 'Never', items: [{}] };
  // A stored value may hold null for an optional field and '' for an optional enum...
  const stored: Validated<Infer<typeof schema>> = { mode: 'Never', size: null, loose: '', tags: { a: null } };
  // @ts-expect-error: ...but not for a required one
  const storedWrong: Validated<Infer<typeof schema>> = { mode: '' };
  assert.deepEqual(check(stored), [], 'what Validated allows passes the checker');
  assert.ok(missing && missingInItem && storedWrong);
});
