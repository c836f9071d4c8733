/**
 * The `cattail-cni` executable: environment and stdin in, exactly one JSON document (result or
 * error) on stdout, logs on stderr, exit code 0 or 1. Everything else is in plugin.ts.
 *
 * VERSION is answered here, before plugin.ts (and with it the config engine, IPAM and the error
 * mapping) is even loaded: runtimes call it often, and it needs nothing but the version list.
 * plugin.ts is a dynamic import, which the bundle (cni/scripts/bundle.mjs) keeps lazy too.
 */
import { cmdVersion } from './commands/version.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function main(): Promise<void> {
  if ((process.env.CNI_COMMAND ?? '').trim().toUpperCase() === 'VERSION') {
    process.stdout.write(`${JSON.stringify(cmdVersion())}\n`);
    return;
  }
  const [{ runPlugin }, stdin] = await Promise.all([import('./plugin.js'), readStdin()]);
  const out = await runPlugin({ env: process.env, stdin });
  if (out.stdout) process.stdout.write(out.stdout);
  process.exitCode = out.exitCode;
  // The datastore is closed by now; should anything still hold the event loop (a gRPC timer),
  // do not let it keep the runtime waiting.
  setTimeout(() => process.exit(out.exitCode), 2000).unref();
}
