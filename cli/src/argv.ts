/**
 * A small argv parser: each command declares its flags, and anything else that starts with `-`
 * is an error naming the flag, so a typo never silently changes what a command does.
 *
 * Accepted spellings, as calicoctl (docopt) accepts them:
 *
 *   --filename=pool.yaml   --filename pool.yaml   -f pool.yaml   -fpool.yaml
 *   -A  --all-namespaces   (booleans take no value)
 *   --                     everything after it is positional
 *   -                      a positional (for `-f -`, it is the value: stdin)
 *
 * Flags and positionals may be interleaved (`get ippool -o yaml pool-a`). A value flag takes the
 * next word whatever it looks like, so `-f -` and `--labels-json '-1'` work. A flag given twice
 * is an error rather than last-one-wins, like docopt.
 *
 * Rejected alternative: a general-purpose parser dependency. We need a dozen flags with
 * calicoctl's exact spellings and errors, which is less code than adapting one.
 */
import { UsageError } from './errors.js';

export interface FlagSpec {
  /** Long name without dashes: `filename`. */
  readonly name: string;
  /** One-letter alias without the dash: `f`. */
  readonly short?: string;
  /** Placeholder shown in help when the flag takes a value (`FILENAME`); absent for booleans. */
  readonly value?: string;
  /** One line for the command's help. */
  readonly help: string;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Value of a value flag, or undefined when not given. */
  string(name: string): string | undefined;
  /** Whether a boolean flag was given. */
  bool(name: string): boolean;
  /** Whether the flag appeared at all. */
  has(name: string): boolean;
}

export interface ParseOptions {
  /** Stop at the first positional and return it and everything after it untouched (the command name). */
  stopAtPositional?: boolean;
}

export interface ParseResult extends ParsedArgs {
  /** With `stopAtPositional`: the first positional and the words after it. */
  readonly rest: readonly string[];
}

export function parseArgv(argv: readonly string[], specs: readonly FlagSpec[], opts: ParseOptions = {}): ParseResult {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  let rest: string[] = [];

  const set = (spec: FlagSpec, shown: string, value: string | true): void => {
    if (values.has(spec.name)) throw new UsageError(`flag ${shown} was given more than once`);
    values.set(spec.name, value);
  };

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      if (opts.stopAtPositional) {
        rest = argv.slice(i + 1);
        break;
      }
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (word === '-' || !word.startsWith('-')) {
      if (opts.stopAtPositional) {
        rest = argv.slice(i);
        break;
      }
      positionals.push(word);
      continue;
    }

    let spec: FlagSpec | undefined;
    let shown: string;
    let inline: string | undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
      if (eq !== -1) inline = word.slice(eq + 1);
      shown = `--${name}`;
      spec = byLong.get(name);
    } else {
      shown = word.slice(0, 2);
      spec = byShort.get(word[1]);
      if (word.length > 2) inline = word[2] === '=' ? word.slice(3) : word.slice(2);
    }
    if (!spec) throw new UsageError(`unknown flag ${shown}`);

    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`flag ${shown} takes no value`);
      set(spec, shown, true);
      continue;
    }
    if (inline !== undefined) {
      set(spec, shown, inline);
      continue;
    }
    if (i + 1 >= argv.length) throw new UsageError(`flag ${shown} needs a value (${spec.value})`);
    set(spec, shown, argv[++i]);
  }

  return {
    positionals,
    rest,
    string: (name) => {
      const v = values.get(name);
      return typeof v === 'string' ? v : undefined;
    },
    bool: (name) => values.get(name) === true,
    has: (name) => values.has(name),
  };
}

/** The `Options:` block of a help text, aligned like calicoctl's. */
export function formatFlags(specs: readonly FlagSpec[]): string {
  const left = specs.map((s) => {
    const short = s.short ? `-${s.short} ` : '   ';
    return `  ${short}--${s.name}${s.value ? `=<${s.value}>` : ''}`;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => `${left[i].padEnd(width)}${s.help}`).join('\n');
}
