/**
 * The three patch types of `cattail patch --type`, applied to a resource as plain JSON:
 *
 *   strategic  calicoctl's (and its default): Kubernetes' strategic merge patch on Calico's v3
 *              types. Those types declare no list merge keys, so it is a JSON merge patch (objects
 *              merge key by key, `null` removes a key, a list is replaced whole) plus the two map
 *              directives that still mean something: `"$patch": "replace"` (the object replaces
 *              the stored one) and `"$patch": "delete"` (the object is removed). Other `$`
 *              directives only make sense with merge keys and are refused.
 *   merge      JSON Merge Patch, RFC 7386.
 *   json       JSON Patch, RFC 6902: a list of add, remove, replace, move, copy and test
 *              operations on JSON Pointer (RFC 6901) paths, applied in order, all or nothing.
 *
 * calicoctl lists merge and json as "not yet implemented" and applies every patch as strategic;
 * here each type does what its name says. `parsePatch` checks the document's shape before any
 * datastore is opened; `applyPatch` never modifies its input.
 */
import { isPlainObject } from '@cattail/api';
import { CliError } from './errors.js';

export const PATCH_TYPES = ['strategic', 'merge', 'json'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string[];
  from?: string[];
  value?: Json;
}

export type Patch = { type: 'strategic' | 'merge'; doc: Record<string, Json> } | { type: 'json'; ops: Operation[] };

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

function invalid(message: string): CliError {
  return new CliError('CLI_PATCH_INVALID', message);
}

/** The patch text checked against its type. Throws CliError CLI_PATCH_INVALID. */
export function parsePatch(text: string, type: PatchType): Patch {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`the patch is not valid JSON: ${(err as Error).message}`);
  }
  if (type !== 'json') {
    if (!isPlainObject(doc)) throw invalid(`a ${type} patch must be a JSON object, e.g. '{"spec":{"disabled":true}}'`);
    if (type === 'strategic') checkDirectives(doc as Record<string, Json>, '');
    return { type, doc: doc as Record<string, Json> };
  }
  if (!Array.isArray(doc))
    throw invalid(`a json patch (RFC 6902) must be a JSON array of operations, e.g. '[{"op":"replace","path":"/spec/disabled","value":true}]'`);
  return { type, ops: doc.map((op, i) => parseOperation(op, i)) };
}

function parseOperation(raw: unknown, i: number): Operation {
  const where = `patch operation ${i + 1}`;
  if (!isPlainObject(raw)) throw invalid(`${where}: must be an object with "op" and "path"`);
  if (typeof raw.op !== 'string' || !OPS.includes(raw.op)) throw invalid(`${where}: "op" must be one of ${OPS.join(', ')}`);
  if (typeof raw.path !== 'string') throw invalid(`${where}: "path" must be a JSON Pointer string`);
  const op: Operation = { op: raw.op as Operation['op'], path: parsePointer(raw.path, where) };
  if (op.op === 'move' || op.op === 'copy') {
    if (typeof raw.from !== 'string') throw invalid(`${where}: "${op.op}" needs "from", a JSON Pointer string`);
    op.from = parsePointer(raw.from, where);
  }
  if (op.op === 'add' || op.op === 'replace' || op.op === 'test') {
    if (!('value' in raw)) throw invalid(`${where}: "${op.op}" needs "value"`);
    op.value = raw.value as Json;
  }
  return op;
}

function parsePointer(pointer: string, where: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw invalid(`${where}: path "${pointer}" must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function checkDirectives(doc: Record<string, Json>, at: string): void {
  for (const [key, value] of Object.entries(doc)) {
    const path = at ? `${at}.${key}` : key;
    if (key === '$patch') {
      if (value !== 'replace' && value !== 'delete') throw invalid(`${path}: only "$patch": "replace" or "delete" is supported on Calico resources`);
    } else if (key.startsWith('$')) {
      throw invalid(`${path}: the strategic merge directive "${key}" needs list merge keys, which Calico's resources do not declare`);
    } else if (isPlainObject(value)) {
      checkDirectives(value, path);
    }
  }
}

/** The patched copy of `target`. Throws CliError CLI_PATCH_INVALID when an operation cannot apply. */
export function applyPatch(target: Record<string, unknown>, patch: Patch): Record<string, unknown> {
  const doc = structuredClone(target) as Record<string, Json>;
  let out: Json | undefined;
  if (patch.type === 'json') {
    out = doc;
    for (const [i, op] of patch.ops.entries()) out = applyOperation(out, op, i);
  } else {
    out = mergeObject(doc, patch.doc, patch.type === 'strategic');
  }
  if (!isPlainObject(out)) throw invalid('the patch leaves no resource (it removed or replaced the whole document)');
  return out;
}

/** RFC 7386 MergePatch on objects; `strategic` also honours `$patch`. Undefined: delete the key. */
function mergeObject(target: Json | undefined, patch: Record<string, Json>, strategic: boolean): Json | undefined {
  if (strategic && patch.$patch === 'delete') return undefined;
  const base: Record<string, Json> = !isPlainObject(target) || (strategic && patch.$patch === 'replace') ? {} : { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (strategic && key === '$patch') continue;
    if (value === null) {
      delete base[key];
    } else if (isPlainObject(value)) {
      const merged = mergeObject(base[key], value, strategic);
      if (merged === undefined) delete base[key];
      else base[key] = merged;
    } else {
      base[key] = structuredClone(value);
    }
  }
  return base;
}

function applyOperation(doc: Json, op: Operation, i: number): Json {
  const fail = (why: string): CliError => invalid(`patch operation ${i + 1} (${op.op} ${pointerText(op.path)}): ${why}`);
  switch (op.op) {
    case 'add':
      return add(doc, op.path, structuredClone(op.value as Json), fail);
    case 'remove':
      return remove(doc, op.path, fail).doc;
    case 'replace': {
      const removed = remove(doc, op.path, fail).doc;
      return add(removed, op.path, structuredClone(op.value as Json), fail);
    }
    case 'move': {
      const from = op.from!;
      if (op.path.length > from.length && from.every((t, k) => op.path[k] === t)) throw fail('cannot move a value into itself');
      const { doc: without, value } = remove(doc, from, fail);
      return add(without, op.path, value, fail);
    }
    case 'copy':
      return add(doc, op.path, structuredClone(get(doc, op.from!, fail)), fail);
    case 'test':
      if (!deepEqual(get(doc, op.path, fail), op.value as Json)) throw fail(`the value is not ${JSON.stringify(op.value)}`);
      return doc;
  }
}

function get(doc: Json, path: readonly string[], fail: (why: string) => CliError): Json {
  let at: Json = doc;
  for (const token of path) {
    if (Array.isArray(at)) at = at[arrayIndex(at, token, false, fail)];
    else if (isPlainObject(at) && Object.hasOwn(at, token)) at = at[token];
    else throw fail(`"${token}" does not exist`);
  }
  return at;
}

function add(doc: Json, path: readonly string[], value: Json, fail: (why: string) => CliError): Json {
  if (path.length === 0) return value;
  const parent = get(doc, path.slice(0, -1), fail);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, fail), 0, value);
  else if (isPlainObject(parent)) parent[last] = value;
  else throw fail(`the parent of "${last}" is not an object or array`);
  return doc;
}

function remove(doc: Json, path: readonly string[], fail: (why: string) => CliError): { doc: Json; value: Json } {
  if (path.length === 0) throw fail('cannot remove the whole document');
  const parent = get(doc, path.slice(0, -1), fail);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) return { doc, value: parent.splice(arrayIndex(parent, last, false, fail), 1)[0] };
  if (isPlainObject(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last];
    delete parent[last];
    return { doc, value };
  }
  throw fail(`"${last}" does not exist`);
}

/** An RFC 6902 array index: digits without leading zeros, or `-` (one past the end) when adding. */
function arrayIndex(arr: readonly Json[], token: string, adding: boolean, fail: (why: string) => CliError): number {
  if (adding && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw fail(`"${token}" is not an array index`);
  const index = Number(token);
  if (index > arr.length || (!adding && index === arr.length)) throw fail(`index ${index} is out of range (length ${arr.length})`);
  return index;
}

function pointerText(path: readonly string[]): string {
  return path.length === 0 ? '""' : path.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function deepEqual(a: Json, b: Json): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return a === b;
}
