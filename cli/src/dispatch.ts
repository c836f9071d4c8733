/**
 * From the words after the global flags to the command that runs: the command name is looked up
 * in the registry, then group commands are walked down (`selector test`) to the one that runs.
 * A group that can also run itself (`cattail typha` serves; `cattail typha watch` watches) stops
 * the walk when no subcommand follows.
 */
import { BINARY_NAME, helpText, usageBlock, type Command } from './command.js';
import { UsageError } from './errors.js';
import { globalUsage } from './global-options.js';

export interface CommandTarget {
  cmd: Command;
  /** `selector test`: the words that chose it, for messages. */
  path: string;
  /** What follows the command path: its flags and arguments. */
  words: readonly string[];
}

/**
 * The command to run, or the help text a group asked for with `--help` (printed, exit 0).
 * Throws UsageError, with the usage to show and the exit code, for an unknown command or a
 * group without its subcommand.
 */
export function resolveCommand(words: readonly string[], commands: readonly Command[]): CommandTarget | { help: string } {
  let cmd = commands.find((c) => c.name === words[0]);
  if (!cmd) throw new UsageError(`unknown command "${words[0]}"`, globalUsage(commands), 1);
  let path = cmd.name;
  let rest = words.slice(1);
  while (cmd.subcommands) {
    const next = rest[0];
    const noSubcommand = next === undefined || next.startsWith('-');
    if (noSubcommand && cmd.run) break;
    if (noSubcommand) {
      if (rest.includes('--help') || rest.includes('-h')) return { help: helpText(cmd) };
      throw new UsageError(`${BINARY_NAME} ${path} needs a subcommand`, usageBlock(cmd), cmd.usageExitCode ?? 1);
    }
    const sub: Command | undefined = cmd.subcommands.find((c) => c.name === next);
    if (!sub) throw new UsageError(`unknown command "${path} ${next}"`, usageBlock(cmd), cmd.usageExitCode ?? 1);
    cmd = sub;
    path = `${path} ${sub.name}`;
    rest = rest.slice(1);
  }
  return { cmd, path, words: rest };
}
