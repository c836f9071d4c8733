/**
 * `cattail node status`: calicoctl's view of this host's Calico node, without the datastore:
 *
 *   is Felix running (a process scan of /proc)? ─ no ─▶ "Calico process is not running.", exit 1
 *   ─ yes ─▶ "Calico process is running." ─▶ BIRD's `show protocols` on its control socket
 *   (bird-status.ts) ─▶ one table of BGP peers per family, or "No IPv4 peers found."
 *
 * Felix is recognised as calicoctl recognises it (`calico-felix`, or `calico-node -felix`) and as
 * Cattail runs it (`cattail felix`, also through `node .../cattail.js felix`). The socket is
 * calicoctl's (/var/run/calico/bird.ctl, else /var/run/bird/bird.ctl) unless --bird-socket names
 * another (a lab node's `<dir>/nodes/<node>/bird.ctl`). Unlike calicoctl, which prints a BIRD it
 * cannot reach as a note and exits 0, an unreachable socket is an error (exit 1): the command was
 * asked for the sessions and could not read them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { birdCommand, parseBirdPeers, type BgpPeer } from '../bird-status.js';
import { CliError, CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';
import { formatBoxTable } from '../output/box-table.js';

const DEFAULT_SOCKETS = ['/var/run/calico/bird.ctl', '/var/run/bird/bird.ctl'];

export const nodeStatusCommand: Command = {
  name: 'status',
  summary: 'Check the status of the Calico node instance.',
  usage: `${BINARY_NAME} node status [--bird-socket=<PATH>] [--allow-version-mismatch]`,
  flags: [{ name: 'bird-socket', value: 'PATH', help: `BIRD's control socket (default: ${DEFAULT_SOCKETS.join(', else ')}).` }, ALLOW_VERSION_MISMATCH_FLAG],
  description: `Check the status of the Calico node instance on this host: whether Felix is
running, and the state of BIRD's BGP sessions, one table per address family.
It reads no datastore; --allow-version-mismatch is accepted and changes nothing.`,
  run: runNodeStatus,
};

async function runNodeStatus(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const given = ctx.args.string('bird-socket');
  if (given === '') throw new UsageError('--bird-socket may not be empty');

  if (!(await felixRunning())) throw new CommandFailedError('Calico process is not running.');
  writeLine(ctx.stdout, 'Calico process is running.');

  const peers = await readPeers(given === undefined ? DEFAULT_SOCKETS : [given], ctx.signal);
  for (const family of [4, 6] as const) {
    writeLine(ctx.stdout);
    writeLine(ctx.stdout, `IPv${family} BGP status`);
    const rows = peers.filter((p) => p.family === family).map((p) => [p.address, p.type, p.state, p.since, p.info]);
    if (rows.length === 0) writeLine(ctx.stdout, `No IPv${family} peers found.`);
    else ctx.stdout.write(formatBoxTable(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'], rows));
  }
  writeLine(ctx.stdout);
  return 0;
}

/** The first socket that answers; a socket that is not there moves on to the next, as calicoctl does. */
async function readPeers(sockets: readonly string[], signal: AbortSignal): Promise<BgpPeer[]> {
  const missing: string[] = [];
  for (const socket of sockets) {
    try {
      return parseBirdPeers(await birdCommand(socket, 'show protocols', { signal }));
    } catch (err) {
      const reason = err instanceof CliError && err.code === 'CLI_BIRD_UNAVAILABLE' ? /: (ENOENT|ECONNREFUSED)$/.exec(err.message)?.[1] : undefined;
      if (reason === undefined) throw err;
      missing.push(`${socket} (${reason})`);
    }
  }
  throw new CliError('CLI_BIRD_UNAVAILABLE', `Error querying BIRD: unable to connect to BIRD socket ${missing.join(' or ')}; is BIRD running?`);
}

/** Whether some process on this host is Felix, by its command line. */
async function felixRunning(): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // it exited meanwhile, or is not ours to read
    }
    if (isFelixCommand(cmdline.split('\0').filter((a) => a !== ''))) return true;
  }
  return false;
}

/** calico-felix; calico-node -felix; cattail felix (the binary, or node running cattail.js). */
export function isFelixCommand(argv: readonly string[]): boolean {
  const names = argv.map((a) => basename(a));
  if (names[0] === 'calico-felix') return true;
  if (names[0] === 'calico-node' && argv.includes('-felix')) return true;
  const cattail = names.findIndex((n) => n === BINARY_NAME || n === `${BINARY_NAME}.js`);
  if (cattail === -1) return false;
  // The command name is the first word after the global options (`-l <level>` takes a value).
  for (let i = cattail + 1; i < argv.length; i++) {
    if (argv[i] === '-l' || argv[i] === '--log-level') i++;
    else if (!argv[i].startsWith('-')) return argv[i] === 'felix';
  }
  return false;
}
