/**
 * `cattail node diags`: calicoctl's diagnostics bundle of this host, as a gzipped tarball that an
 * operator attaches to a bug report:
 *
 *   date, hostname                     when and where
 *   ip-addr, ip-link, ip-rule,         the host's addresses, links, policy rules, every routing
 *   ip-route, ip6-route, ip-neigh      table (both families) and neighbours, from iproute2
 *   nft-ruleset                        `nft list ruleset`: Felix's tables and everyone else's
 *   sysctl-net                         the net.* sysctls Felix manages
 *   ss                                 TCP and UDP sockets (BGP, Typha, health ports)
 *   bird-status, bird-protocols,       BIRD's `show status`, `show protocols all` and
 *   bird-routes                        `show route all` over its control socket
 *   logs/                              the files of --log-dir (default /var/log/calico), when present
 *   manifest.txt                       each item: ok, or why it could not be collected
 *
 * What cannot be collected (a tool missing, BIRD not running) is written into that item's file
 * and the manifest, and the bundle is made anyway: diagnostics of a broken node are the point.
 * It reads no datastore. The tarball goes to --output-dir (default: a new temporary directory)
 * and its path is printed, as calicoctl prints it.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { birdCommand } from '../bird-status.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';

const DEFAULT_LOG_DIR = '/var/log/calico';
const DEFAULT_SOCKET = '/var/run/calico/bird.ctl';
const COMMAND_TIMEOUT_MS = 20_000;

export const nodeDiagsCommand: Command = {
  name: 'diags',
  summary: 'Gather a diagnostics bundle for a Calico node.',
  usage: `${BINARY_NAME} node diags [--log-dir=<LOGDIR>] [--bird-socket=<PATH>] [--output-dir=<DIR>] [--allow-version-mismatch]`,
  flags: [
    { name: 'log-dir', value: 'LOGDIR', help: `The directory containing Calico logs (default: ${DEFAULT_LOG_DIR}).` },
    { name: 'bird-socket', value: 'PATH', help: `BIRD's control socket (default: ${DEFAULT_SOCKET}).` },
    { name: 'output-dir', value: 'DIR', help: 'Where the tarball is written (default: a new temporary directory).' },
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  description: `Collects the host's network state (addresses, links, rules, routes, neighbours,
the nftables ruleset, net sysctls, sockets), BIRD's status, sessions and routes, and the
Calico log files into one .tar.gz, and prints its path. Run it as root on the node (in the
node agent's network namespace). What cannot be collected is noted in manifest.txt.`,
  run: runNodeDiags,
};

interface Item {
  file: string;
  collect: () => Promise<string>;
}

function run(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: COMMAND_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

function items(socket: string, signal: AbortSignal): Item[] {
  const cmd = (file: string, name: string, args: readonly string[]): Item => ({ file, collect: () => run(name, args) });
  const bird = (file: string, command: string): Item => ({
    file,
    collect: async () => `${(await birdCommand(socket, command, { signal, timeoutMs: COMMAND_TIMEOUT_MS })).join('\n')}\n`,
  });
  return [
    { file: 'date.txt', collect: async () => `${new Date().toISOString()}\n` },
    { file: 'hostname.txt', collect: async () => `${hostname()}\n` },
    cmd('ip-addr.txt', 'ip', ['addr', 'show']),
    cmd('ip-link.txt', 'ip', ['-d', 'link', 'show']),
    cmd('ip-rule.txt', 'ip', ['rule', 'show']),
    cmd('ip-route.txt', 'ip', ['route', 'show', 'table', 'all']),
    cmd('ip6-route.txt', 'ip', ['-6', 'route', 'show', 'table', 'all']),
    cmd('ip-neigh.txt', 'ip', ['neigh', 'show']),
    cmd('nft-ruleset.txt', 'nft', ['list', 'ruleset']),
    cmd('sysctl-net.txt', 'sysctl', ['-a', '-r', '^net\\.(ipv4|ipv6)\\.(conf|ip_forward|neigh)']),
    cmd('ss.txt', 'ss', ['-tuanp']),
    bird('bird-status.txt', 'show status'),
    bird('bird-protocols.txt', 'show protocols all'),
    bird('bird-routes.txt', 'show route all'),
  ];
}

async function copyLogs(logDir: string, to: string): Promise<string> {
  let info;
  try {
    info = await stat(logDir);
  } catch {
    return `no log directory ${logDir}`;
  }
  if (!info.isDirectory()) return `${logDir} is not a directory`;
  await cp(logDir, to, { recursive: true, dereference: false });
  return `ok (${(await readdir(to)).length} entries)`;
}

async function runNodeDiags(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  for (const flag of ['log-dir', 'bird-socket', 'output-dir']) {
    if (ctx.args.string(flag) === '') throw new UsageError(`--${flag} may not be empty`);
  }
  const logDir = ctx.args.string('log-dir') ?? DEFAULT_LOG_DIR;
  const socket = ctx.args.string('bird-socket') ?? DEFAULT_SOCKET;
  const outDir = ctx.args.string('output-dir') ?? (await mkdtemp(join(tmpdir(), 'cattail-diags-out-')));
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const name = `diags-${stamp}`;
  const work = await mkdtemp(join(tmpdir(), 'cattail-diags-'));
  try {
    const dir = join(work, name);
    await mkdir(dir);
    writeLine(ctx.stdout, 'Collecting diagnostics');
    const manifest: string[] = [];
    for (const item of items(socket, ctx.signal)) {
      if (ctx.signal.aborted) throw new CommandFailedError('interrupted: no bundle written');
      try {
        await writeFile(join(dir, item.file), await item.collect());
        manifest.push(`${item.file}: ok`);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        await writeFile(join(dir, item.file), `not collected: ${why}\n`);
        manifest.push(`${item.file}: not collected: ${why.split('\n')[0]}`);
      }
    }
    manifest.push(`logs/: ${await copyLogs(logDir, join(dir, 'logs'))}`);
    await writeFile(join(dir, 'manifest.txt'), `${manifest.join('\n')}\n`);
    await mkdir(outDir, { recursive: true });
    const tarball = join(outDir, `${name}.tar.gz`);
    try {
      await run('tar', ['-czf', tarball, '-C', work, name]);
    } catch (err) {
      throw new CommandFailedError(`cannot write ${tarball}: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
    }
    writeLine(ctx.stdout, `Diags saved to ${tarball}`);
    writeLine(ctx.stdout, 'Attach it to the issue you open; it holds addresses and routes of this host, so share it with care.');
    return 0;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
