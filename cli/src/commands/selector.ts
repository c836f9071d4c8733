/**
 * `cattail selector test 'SELECTOR' --labels-json '{"k":"v"}'`: does this selector match these
 * labels? Prints `true` or `false` and exits 0, so it can be used in scripts; input that cannot
 * be evaluated (a selector syntax error, bad --labels-json, wrong arguments) exits 2, which a
 * script can tell apart from a plain "false". A syntax error shows where, with a caret:
 *
 *   invalid selector: unexpected "&" at position 9, expected ...
 *     a == 'x' & b == 'y'
 *              ^
 */
import { isPlainObject, parseSelector, SelectorSyntaxError } from '@cattail/api';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';

/** Exit code for input that could not be evaluated. */
const EXIT_INVALID = 2;

const testCommand: Command = {
  name: 'test',
  summary: 'Evaluate a selector against a set of labels.',
  usage: `${BINARY_NAME} selector test <SELECTOR> [--labels-json=<JSON>]`,
  flags: [{ name: 'labels-json', value: 'JSON', help: 'The labels as a JSON object of strings (default: {}).' }],
  usageExitCode: EXIT_INVALID,
  description: `Prints "true" if the selector matches the labels, "false" if not (exit 0).
Exits 2 when the selector or the labels are invalid.

Example:
  ${BINARY_NAME} selector test "app == 'web' && !has(canary)" --labels-json '{"app":"web"}'`,
  run: runTest,
};

export const selectorCommand: Command = {
  name: 'selector',
  summary: 'Work with Calico label selectors.',
  usage: `${BINARY_NAME} selector <command> [<args>...]`,
  subcommands: [testCommand],
  usageExitCode: EXIT_INVALID,
};

async function runTest(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length !== 1) {
    throw new UsageError(args.positionals.length === 0 ? 'SELECTOR is required' : 'give exactly one SELECTOR (quote it)');
  }
  const text = args.positionals[0];
  const labels = parseLabels(args.string('labels-json') ?? '{}');

  let selector;
  try {
    selector = parseSelector(text);
  } catch (err) {
    if (!(err instanceof SelectorSyntaxError)) throw err;
    throw new CommandFailedError(`invalid selector: ${err.message}\n${caret(text, err.position)}`, EXIT_INVALID, { cause: err });
  }
  writeLine(ctx.stdout, String(selector.evaluate(labels)));
  return 0;
}

function parseLabels(json: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new CommandFailedError(`invalid --labels-json: ${(err as Error).message}`, EXIT_INVALID, { cause: err });
  }
  if (!isPlainObject(value)) {
    throw new CommandFailedError('invalid --labels-json: must be a JSON object such as {"app":"web"}', EXIT_INVALID);
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new CommandFailedError(`invalid --labels-json: the value of label "${k}" must be a string`, EXIT_INVALID);
    }
  }
  return value as Record<string, string>;
}

/** The selector on one line with a caret under `position` (control characters shown as spaces). */
function caret(text: string, position: number): string {
  const flat = text.replace(/[\t\n\r]/g, ' ');
  const at = Math.max(0, Math.min(position, flat.length));
  return `  ${flat}\n  ${' '.repeat(at)}^`;
}
