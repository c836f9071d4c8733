/**
 * Component configuration the way Calico does it: a declared table of parameters (name, type,
 * default, range) read from `<PREFIX><NAME>` environment variables (case-insensitive, e.g.
 * `TYPHA_SERVERPORT`), Calico's shared variables a parameter names (`NODENAME`), `--kebab-case`
 * flags, for Felix FelixConfiguration resources and, for the CNI plugin, the JSON network
 * configuration (document.ts), in a stated precedence. Parsed and validated once at start; the
 * result is frozen. A bad value is an error naming the source, the parameter and what is
 * allowed, never a silent default.
 *
 * Pure (no I/O): callers pass `process.env`, argv and documents in.
 */
import { parseTypedValue } from './document.js';

import { ApiError } from '../errors.js';

export type ParamType = 'int' | 'float' | 'bool' | 'string' | 'enum' | 'list' | 'seconds';

export interface ParamSpec {
  type: ParamType;
  default: unknown;
  help: string;
  min?: number;
  max?: number;
  /** Allowed values for `enum` (compared case-insensitively, stored in this spelling). */
  values?: readonly string[];
  /** Never logged in clear. */
  secret?: boolean;
  /** Also read from this environment variable, by {@link namedEnvSource} (Calico's shared names: `NODENAME`, `ETCD_ENDPOINTS`). */
  env?: string;
  /**
   * Values that mean "not given": the value from an earlier source, else the default, stands.
   * E.g. `['']` (a JSON config's empty string) or `[0]` (an MTU of 0: read it from a file). A
   * `string` parameter's value is compared trimmed, others as they are. JSON null always means
   * not given.
   */
  unset?: readonly (string | number | boolean)[];
  /** What a bad typed value's message says is allowed, where the type says too little: `a list of pool CIDRs or names`. */
  expects?: string;
}

export type ParamTable = Readonly<Record<string, ParamSpec>>;

/** The value type a parameter's spec gives, so a table declares its config's type too. */
export type ParamValue<S extends ParamSpec> = S['type'] extends 'int' | 'float' | 'seconds'
  ? number
  : S['type'] extends 'bool'
    ? boolean
    : S['type'] extends 'list'
      ? readonly string[]
      : string;

export type ConfigOf<T extends ParamTable> = { readonly [K in keyof T]: ParamValue<T[K]> };

/** Text values (environment, flags, files), parsed by each parameter's type. */
export interface ConfigSource {
  /** Where values came from, in increasing precedence order: later sources win. */
  name: string;
  values: Readonly<Record<string, string>>;
}

/**
 * Values as a JSON document holds them (strings, numbers, booleans, lists), from
 * {@link documentSource}; each must already have its parameter's type (document.ts says which
 * spellings count).
 */
export interface TypedSource {
  name: string;
  typed: true;
  values: Readonly<Record<string, unknown>>;
}

export interface ConfigIssue {
  param: string;
  source: string;
  message: string;
}

export class ConfigError extends ApiError {
  declare readonly code: 'CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super('CONFIG_INVALID', issues.map((i) => `${i.source}: ${i.param}: ${i.message}`).join('\n'));
    this.issues = issues;
  }
}

/** Values from `<prefix><NAME>` environment variables, matched case-insensitively. */
export function envSource(table: ParamTable, prefix: string, env: Readonly<Record<string, string | undefined>>): ConfigSource {
  const byUpper = new Map(Object.keys(table).map((k) => [k.toUpperCase(), k]));
  const values: Record<string, string> = {};
  const p = prefix.toUpperCase();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !k.toUpperCase().startsWith(p)) continue;
    const name = byUpper.get(k.slice(p.length).toUpperCase());
    if (name) values[name] = v;
  }
  return { name: 'environment', values };
}

/** Values from the variables the table names in `env` (`NODENAME` for `nodename`), read as they are. */
export function namedEnvSource(table: ParamTable, env: Readonly<Record<string, string | undefined>>): ConfigSource {
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(table)) {
    const v = spec.env === undefined ? undefined : env[spec.env];
    if (v !== undefined) values[name] = v;
  }
  return { name: 'environment', values };
}

/** `ServerPort` → `server-port`. */
export function flagName(param: string): string {
  return param
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/**
 * Values from `--kebab-case value` / `--kebab-case=value` flags (also `--lowercasename`).
 * Returns the unconsumed arguments too; an unknown flag is an error.
 */
export function flagSource(table: ParamTable, argv: readonly string[]): { source: ConfigSource; rest: string[]; issues: ConfigIssue[] } {
  const byFlag = new Map<string, string>();
  for (const k of Object.keys(table)) {
    byFlag.set(flagName(k), k);
    byFlag.set(k.toLowerCase(), k);
  }
  const values: Record<string, string> = {};
  const rest: string[] = [];
  const issues: ConfigIssue[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const flag = a.slice(2, eq === -1 ? undefined : eq);
    const name = byFlag.get(flag) ?? byFlag.get(flag.toLowerCase());
    if (!name) {
      issues.push({ param: `--${flag}`, source: 'flags', message: 'unknown flag' });
      continue;
    }
    if (eq !== -1) values[name] = a.slice(eq + 1);
    else if (table[name].type === 'bool' && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) values[name] = 'true';
    else if (i + 1 < argv.length) values[name] = argv[++i];
    else issues.push({ param: `--${flag}`, source: 'flags', message: 'needs a value' });
  }
  return { source: { name: 'flags', values }, rest, issues };
}

function parseValue(spec: ParamSpec, raw: string): { value?: unknown; error?: string } {
  const s = raw.trim();
  const range = (n: number) =>
    (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)
      ? `${raw} is outside ${spec.min ?? '-∞'}..${spec.max ?? '∞'}`
      : undefined;
  switch (spec.type) {
    case 'int': {
      if (!/^-?[0-9]+$/.test(s)) return { error: `"${raw}" is not an integer` };
      const n = Number(s);
      const e = range(n);
      return e ? { error: e } : { value: n };
    }
    case 'float':
    case 'seconds': {
      const n = Number(s);
      if (s === '' || !Number.isFinite(n)) return { error: `"${raw}" is not a number` };
      const e = range(n);
      return e ? { error: e } : { value: n };
    }
    case 'bool': {
      const l = s.toLowerCase();
      if (['true', '1', 'yes', 'y', 't'].includes(l)) return { value: true };
      if (['false', '0', 'no', 'n', 'f', ''].includes(l)) return { value: false };
      return { error: `"${raw}" is not a boolean (true or false)` };
    }
    case 'enum': {
      const v = spec.values?.find((x) => x.toLowerCase() === s.toLowerCase());
      return v === undefined ? { error: `"${raw}" is not one of ${spec.values?.join(', ')}` } : { value: v };
    }
    case 'list':
      return {
        value:
          s === ''
            ? []
            : s
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean),
      };
    default:
      return { value: raw };
  }
}

function isUnset(spec: ParamSpec, raw: unknown): boolean {
  if (raw === undefined || raw === null) return true;
  const v = spec.type === 'string' && typeof raw === 'string' ? raw.trim() : raw;
  return spec.unset?.some((u) => u === v) ?? false;
}

/**
 * Merge sources over the defaults (later sources win) and validate every value. Throws a
 * {@link ConfigError} listing every bad value.
 */
export function loadConfig<T>(table: ParamTable, sources: readonly (ConfigSource | TypedSource)[]): Readonly<T> {
  const { config, issues } = collectConfig<T>(table, sources);
  if (issues.length) throw new ConfigError(issues);
  return config;
}

/**
 * {@link loadConfig} without the throw: the config (a bad value leaves the earlier one standing)
 * and every issue, for a caller that adds its own checks and reports everything at once.
 */
export function collectConfig<T>(table: ParamTable, sources: readonly (ConfigSource | TypedSource)[]): { config: Readonly<T>; issues: ConfigIssue[] } {
  const out: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const [name, spec] of Object.entries(table)) out[name] = spec.default;
  for (const src of sources) {
    for (const [name, raw] of Object.entries(src.values)) {
      const spec = table[name];
      if (!spec || isUnset(spec, raw)) continue;
      const { value, error } = 'typed' in src ? parseTypedValue(spec, raw) : parseValue(spec, raw as string);
      if (error) issues.push({ param: name, source: src.name, message: error });
      else out[name] = value;
    }
  }
  return { config: Object.freeze(out) as Readonly<T>, issues };
}

/** The config as a loggable object: secrets masked. */
export function redactConfig(table: ParamTable, config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = table[k]?.secret && v ? '<redacted>' : v;
  return out;
}

/** `--help` text: one line per parameter with its env name, flag, default and help. */
export function describeParams(table: ParamTable, prefix: string): string {
  return Object.entries(table)
    .map(([k, s]) => `  --${flagName(k).padEnd(34)} ${prefix}${k.toUpperCase()}\n      ${s.help} (default: ${JSON.stringify(s.default)})`)
    .join('\n');
}
