/**
 * A tiny declarative schema: each kind declares its spec as a tree of `obj`, `arr`, `mapOf`,
 * `str`, `oneOf`, `int`, ... and two walkers interpret it:
 *
 *   decodeStrict(value, schema)   unknown fields → issues (like Kubernetes strict decoding);
 *                                 returns a copy without them and without `null` fields
 *   checkValues(value, schema)    types, enums, ranges, required fields, per-field checks
 *
 * They are separate because they run at different times: the CLI decodes a document once
 * (strict), while Typha and the datastore validate stored values (lenient about fields a newer
 * Calico may have added, strict about values). Cross-field rules are not expressed here: each
 * kind's file states them as plain code beside its schema.
 *
 * The same declarations give the TypeScript spec types (`Infer<typeof schema>`), so the types
 * and the validator cannot drift apart. Rejected alternative: JSON Schema plus a generic
 * validator; it needs a dependency and gives messages no operator wants to read.
 */
import type { ValidationIssue } from '../errors.js';
import { isPlainObject } from '../resource.js';

/** A per-field check: pushes issues for `value` (already known to have the right JS type). */
export type Check<V = unknown> = (value: V, path: string, issues: ValidationIssue[]) => void;

interface Base<V> {
  /** Extra checks after the type check. Strings skip them when empty (Go's `omitempty`). */
  readonly check?: Check<V>;
  /**
   * `null` is a value here (an IPAM block's free ordinal). Elsewhere a null list item is an
   * error and a null field or map value means unset.
   */
  readonly nullable?: boolean;
}
export interface StrS<T extends string = string> extends Base<string> {
  readonly type: 'string';
  readonly enum?: readonly T[];
  /** Compare enum values ignoring case, as Felix does for settings whose CRD pattern has `(?i)`. */
  readonly ci?: boolean;
  readonly maxLength?: number;
  /**
   * How Calico rewrites the value when it stores it (a `metav1.Duration` is re-marshalled by
   * Go: `10m` is stored as `10m0s`); applied by {@link normalizeValues} with the defaults.
   */
  readonly normalize?: (s: string) => string;
}
export interface BoolS extends Base<boolean> {
  readonly type: 'boolean';
}
export interface IntS extends Base<number> {
  readonly type: 'integer';
  readonly min?: number;
  readonly max?: number;
}
export interface NumS extends Base<number> {
  readonly type: 'number';
}
/** Go's `numorstring` types and `IntOrString`: ports, protocols, AS numbers. */
export interface IntOrStrS extends Base<number | string> {
  readonly type: 'intOrString';
}
export interface ObjS<F extends Fields = Fields, R extends string = string> extends Base<Record<string, unknown>> {
  readonly type: 'object';
  readonly fields: F;
  /** Fields that must be present, not null and not empty. */
  readonly required?: readonly R[];
  /** Keep fields not listed (Kubernetes ObjectMeta extras, opaque status). */
  readonly open?: boolean;
}
export interface ArrS<I extends Schema = Schema> extends Base<unknown[]> {
  readonly type: 'array';
  readonly items: I;
  readonly maxItems?: number;
  /** Reject repeated entries (CRD `listType=set`). */
  readonly unique?: boolean;
}
export interface MapS<V extends Schema = Schema> extends Base<Record<string, unknown>> {
  readonly type: 'map';
  readonly values: V;
  readonly key?: Check<string>;
}
export interface AnyS extends Base<unknown> {
  readonly type: 'any';
}
export type Schema = StrS | BoolS | IntS | NumS | IntOrStrS | ObjS | ArrS | MapS | AnyS;
export type Fields = Readonly<Record<string, Schema>>;

/**
 * The TypeScript view of data a schema accepts. A field is optional unless the object lists it
 * in `required`. Cross-field rules (each kind's `rules`) are code, so the type does not know
 * them: a field a rule requires is still optional here.
 */
export type Infer<S> =
  S extends StrS<infer T>
    ? T
    : S extends BoolS
      ? boolean
      : S extends IntS | NumS
        ? number
        : S extends IntOrStrS
          ? number | string
          : S extends ArrS<infer I>
            ? Array<Infer<I>>
            : S extends MapS<infer V>
              ? Record<string, Infer<V>>
              : S extends ObjS<infer F, infer R>
                ? Flat<{ -readonly [K in Exclude<keyof F, R>]?: Infer<F[K]> } & { -readonly [K in R & keyof F]: Infer<F[K]> }>
                : unknown;

type Flat<T> = { [K in keyof T]: T[K] };

/**
 * What `checkValues` lets through where `Infer` says T: the type to read a stored value with
 * once it passed validation (Typha's projections and the agents do), where T is the type to
 * write one with. The differences are the checker's leniencies, which come from Go's decoder
 * and `omitempty`: an optional field or a map value may be `null` (read as unset), and an
 * optional string, an enum included, may be `''` (also unset). A required field is present,
 * not null and, for a string, not empty. Unknown fields pass too and are simply not named.
 */
export type Validated<T> = T extends string
  ? T | ''
  : T extends readonly (infer I)[]
    ? Array<Validated<I>>
    : T extends object
      ? // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{} extends T`: T's keys are all optional
        { [K in keyof T]: {} extends Pick<T, K> ? Validated<T[K]> | null : Exclude<Validated<T[K]>, ''> }
      : T;

// ---- builders --------------------------------------------------------------------------------

type Opts<S> = Omit<S, 'type'>;
export const str = (o: Opts<StrS> = {}): StrS => ({ type: 'string', ...o });
export function oneOf<const T extends string>(values: readonly T[], o: Opts<StrS<T>> = {}): StrS<T> {
  return { type: 'string', enum: values, ...o };
}
export const bool = (): BoolS => ({ type: 'boolean' });
export const int = (min?: number, max?: number, o: Opts<IntS> = {}): IntS => ({ type: 'integer', min, max, ...o });
export const num = (o: Opts<NumS> = {}): NumS => ({ type: 'number', ...o });
export const intOrStr = (check?: Check<number | string>): IntOrStrS => ({ type: 'intOrString', check });
// NoInfer: R comes from `required` alone, never from the context (an object nested in another
// is contextually an ObjS of any required fields, which would make all of its fields required).
export function obj<const F extends Fields, const R extends keyof F & string = never>(
  fields: F,
  o: Omit<Opts<ObjS<F, R>>, 'fields'> = {},
): ObjS<F, NoInfer<R>> {
  return { type: 'object', fields, ...o };
}
export function arr<const I extends Schema>(items: I, o: Omit<Opts<ArrS<I>>, 'items'> = {}): ArrS<I> {
  return { type: 'array', items, ...o };
}
export function mapOf<const V extends Schema>(values: V, o: Omit<Opts<MapS<V>>, 'values'> = {}): MapS<V> {
  return { type: 'map', values, ...o };
}
export const any = (o: Opts<AnyS> = {}): AnyS => ({ type: 'any', ...o });

/** Turn a "message or undefined" test into a field check. */
export function test<V>(fn: (value: V) => string | undefined): Check<V> {
  return (value, path, issues) => {
    const message = fn(value);
    if (message) issues.push({ path, message });
  };
}

// ---- paths -----------------------------------------------------------------------------------

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `spec` + `cidr` → `spec.cidr`; keys that are not identifiers are quoted: `labels["k8s.io/x"]`. */
export function child(path: string, key: string): string {
  if (!IDENT.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

// ---- strict decoding -------------------------------------------------------------------------

/**
 * Copy `value`, reporting every field the schema does not know (at any depth) and dropping it,
 * and dropping object fields whose value is `null` (YAML `key:` with nothing after it), which
 * Go's decoder treats as unset. Values of the wrong type are copied as they are, for
 * {@link checkValues} to report.
 */
export function decodeStrict(value: unknown, schema: Schema, path: string, issues: ValidationIssue[]): unknown {
  switch (schema.type) {
    case 'object': {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        if (v === null) continue;
        const field = schema.fields[key];
        if (field) out[key] = decodeStrict(v, field, child(path, key), issues);
        else if (schema.open) out[key] = v;
        else issues.push({ path: child(path, key), message: unknownFieldMessage(key, Object.keys(schema.fields)) });
      }
      return out;
    }
    case 'array':
      if (!Array.isArray(value)) return value;
      return (value as unknown[]).map((v, i) => (v === null ? v : decodeStrict(v, schema.items, item(path, i), issues)));
    case 'map': {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        if (v !== null || schema.values.nullable) out[key] = v === null ? v : decodeStrict(v, schema.values, child(path, key), issues);
      }
      return out;
    }
    default:
      return value;
  }
}

/**
 * Rewrite, in place, every string whose schema has a `normalize` hook: what Calico's Go types
 * do to a value on the way to storage. Values of the wrong type are left for checkValues.
 */
export function normalizeValues(value: unknown, schema: Schema): unknown {
  switch (schema.type) {
    case 'string':
      return schema.normalize && typeof value === 'string' && value !== '' ? schema.normalize(value) : value;
    case 'object':
      if (isPlainObject(value)) for (const [key, field] of Object.entries(schema.fields)) if (key in value) value[key] = normalizeValues(value[key], field);
      return value;
    case 'array':
      if (Array.isArray(value)) value.forEach((v, i) => (value[i] = normalizeValues(v, schema.items)));
      return value;
    case 'map':
      if (isPlainObject(value)) for (const key of Object.keys(value)) value[key] = normalizeValues(value[key], schema.values);
      return value;
    default:
      return value;
  }
}

function unknownFieldMessage(key: string, known: string[]): string {
  const guess = closest(key, known);
  return guess ? `unknown field "${key}" (did you mean "${guess}"?)` : `unknown field "${key}"`;
}

/** The known name a typo most likely meant: same letters in another case, or ≤ 2 edits away. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase) return sameCase;
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d <= bestDistance) {
      best = c;
      bestDistance = d - 1;
    }
  }
  return best;
}

/** Edit distance counting a swap of neighbours as one edit (typos like "prots" for "ports"). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

// ---- value checks ----------------------------------------------------------------------------

/** Report every type, enum, range and required-field problem in `value`. Unknown fields are ignored. */
export function checkValues(value: unknown, schema: Schema, path: string, issues: ValidationIssue[]): void {
  if (value === null) {
    if (!schema.nullable) issues.push({ path, message: `must not be null: expected ${expected(schema)}` });
    return;
  }
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return wrongType(value, schema, path, issues);
      if (value === '') return;
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        issues.push({ path, message: `is ${value.length} characters long; at most ${schema.maxLength} are allowed` });
        return;
      }
      if (schema.enum && !enumHas(schema, value)) {
        issues.push({ path, message: `"${value}" is not one of ${schema.enum.join(', ')}` });
        return;
      }
      return schema.check?.(value, path, issues);
    case 'boolean':
      if (typeof value !== 'boolean') return wrongType(value, schema, path, issues);
      return schema.check?.(value, path, issues);
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return wrongType(value, schema, path, issues);
      if ((schema.min !== undefined && value < schema.min) || (schema.max !== undefined && value > schema.max)) {
        issues.push({ path, message: `${value} is ${rangeText(schema.min, schema.max)}` });
        return;
      }
      return schema.check?.(value, path, issues);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrongType(value, schema, path, issues);
      return schema.check?.(value, path, issues);
    case 'intOrString':
      if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))) {
        return schema.check?.(value, path, issues);
      }
      return wrongType(value, schema, path, issues);
    case 'object':
      if (!isPlainObject(value)) return wrongType(value, schema, path, issues);
      for (const key of schema.required ?? []) {
        const v = value[key];
        if (v === undefined || v === null || v === '') issues.push({ path: child(path, key), message: 'is required' });
      }
      // A null field is an unset one, as for Go's decoder (and Kubernetes' `creationTimestamp: null`).
      for (const [key, field] of Object.entries(schema.fields)) {
        const v = value[key];
        if (v !== undefined && v !== null) checkValues(v, field, child(path, key), issues);
      }
      return schema.check?.(value, path, issues);
    case 'array':
      if (!Array.isArray(value)) return wrongType(value, schema, path, issues);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        issues.push({ path, message: `has ${value.length} entries; at most ${schema.maxItems} are allowed` });
      }
      value.forEach((v, i) => checkValues(v, schema.items, item(path, i), issues));
      if (schema.unique) reportDuplicates(value, path, issues);
      return schema.check?.(value, path, issues);
    case 'map':
      if (!isPlainObject(value)) return wrongType(value, schema, path, issues);
      for (const [key, v] of Object.entries(value)) {
        schema.key?.(key, child(path, key), issues);
        if (v !== null || schema.values.nullable) checkValues(v, schema.values, child(path, key), issues);
      }
      return schema.check?.(value, path, issues);
    case 'any':
      return schema.check?.(value, path, issues);
  }
}

function enumHas(schema: StrS, value: string): boolean {
  if (!schema.ci) return schema.enum!.includes(value);
  const lower = value.toLowerCase();
  return schema.enum!.some((e) => e.toLowerCase() === lower);
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return `outside ${min}..${max}`;
  if (min !== undefined) return `less than ${min}`;
  return `greater than ${max}`;
}

function reportDuplicates(values: unknown[], path: string, issues: ValidationIssue[]): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    const k = JSON.stringify(v);
    if (seen.has(k)) issues.push({ path: item(path, i), message: `duplicate entry ${k}` });
    seen.add(k);
  });
}

function wrongType(value: unknown, schema: Schema, path: string, issues: ValidationIssue[]): void {
  issues.push({ path, message: `expected ${expected(schema)}, got ${describe(value)}` });
}

function expected(schema: Schema): string {
  switch (schema.type) {
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'intOrString':
      return 'an integer or a string';
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'map':
      return 'a map of key: value';
    case 'any':
      return 'a value';
  }
}

/** A short description of a value for messages: `string "x"`, `number 5`, `a list`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
