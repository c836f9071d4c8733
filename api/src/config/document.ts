/**
 * Configuration from a JSON document, such as the network configuration a CNI plugin reads on
 * stdin, onto the same parameter tables as the environment and flags (params.ts).
 *
 * A parameter's name is its path in the document, dots between nested keys, spelled as the
 * document spells them: `mtu`, `ipam.assign_ipv4`, `args.cni.serviceAccountName`. A path through
 * something that is not an object is simply absent: the caller that cares whether `ipam` is an
 * object checks that itself, with its own message.
 *
 * A document already has types, so values are checked against them rather than parsed from
 * text, strictly: a boolean is true/false or the strings "true"/"false" (Calico's CNI config
 * writes them as strings); a number is a JSON number or a numeric string; a list is a JSON array
 * of non-empty strings; strings are trimmed. A bad value reads `must be <what is allowed>, got
 * <the JSON value>`, the parameter named before it by the caller (`mtu must be an integer in
 * 68..65535, got "big"`).
 */
import type { ParamSpec, ParamTable, TypedSource } from './params.js';

/** Every parameter of `table` that `doc` gives (JSON null included: it reads as not given). */
export function documentSource(table: ParamTable, name: string, doc: Readonly<Record<string, unknown>>): TypedSource {
  const values: Record<string, unknown> = {};
  for (const param of Object.keys(table)) {
    const v = valueAt(doc, param.split('.'));
    if (v !== undefined) values[param] = v;
  }
  return { name, typed: true, values };
}

function valueAt(doc: unknown, path: readonly string[]): unknown {
  let cur = doc;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Checks one document value against its spec; see the module comment for what is accepted. */
export function parseTypedValue(spec: ParamSpec, raw: unknown): { value?: unknown; error?: string } {
  const bad = { error: `must be ${expectation(spec)}, got ${JSON.stringify(raw)}` };
  const inRange = (n: number): boolean => (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
  switch (spec.type) {
    case 'string':
      return typeof raw === 'string' ? { value: raw.trim() } : bad;
    case 'enum': {
      const v = typeof raw === 'string' ? spec.values?.find((x) => x.toLowerCase() === raw.trim().toLowerCase()) : undefined;
      return v === undefined ? bad : { value: v };
    }
    case 'bool':
      if (raw === true || raw === 'true') return { value: true };
      if (raw === false || raw === 'false') return { value: false };
      return bad;
    case 'int':
    case 'float':
    case 'seconds': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      const ok = spec.type === 'int' ? Number.isInteger(n) : Number.isFinite(n);
      return ok && inRange(n) ? { value: n } : bad;
    }
    case 'list':
      return Array.isArray(raw) && raw.every((x) => typeof x === 'string' && x.trim() !== '') ? { value: raw.map((x: string) => x.trim()) } : bad;
  }
}

/** `an integer in 68..65535`, `"true" or "false"`, …; the spec's `expects` where it has one. */
export function expectation(spec: ParamSpec): string {
  if (spec.expects !== undefined) return spec.expects;
  const range = spec.min === undefined && spec.max === undefined ? '' : ` in ${spec.min ?? '-∞'}..${spec.max ?? '∞'}`;
  switch (spec.type) {
    case 'int':
      return `an integer${range}`;
    case 'float':
    case 'seconds':
      return `a number${range}`;
    case 'bool':
      return '"true" or "false"';
    case 'enum':
      return `one of ${spec.values?.join(', ')}`;
    case 'list':
      return 'a list of strings';
    case 'string':
      return 'a string';
  }
}
