/**
 * The process entry of `cattail` (bin/cattail.js calls `main()`): binds `run()` to the real
 * process — argv, stdio, environment, a pino logger on stderr — turns the first SIGINT/SIGTERM
 * into an abort the running command sees (its reason is the signal's name, so the command exits
 * 130 or 143), and ends the process with the command's exit code. A second signal exits at once
 * with that signal's code, without waiting for a write in flight. Everything else lives in
 * run.ts and below.
 */
import pino from 'pino';
import { SIGNAL_EXIT_CODES } from './errors.js';
import { run } from './run.js';

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(SIGNAL_EXIT_CODES[signal] ?? 1);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const code = await run(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    // Only touched by `-f -`: creating process.stdin eagerly would hold a terminal open.
    stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    makeLogger: (level) => pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true })),
  });
  await Promise.all([drain(process.stdout), drain(process.stderr)]);
  // Exit explicitly: a datastore client that failed to close must not keep the CLI alive.
  process.exit(code);
}

function drain(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}
