/**
 * `cattail typha watch`: connect to Typha as an agent would and print what it serves — the
 * operator's window into a replica. With --until-in-sync it prints one JSON document
 * `{"revision", "resources": [{kind, namespace, name, labels?, spec}]}` once in sync and exits;
 * without it, that document and then one JSON line per delta batch until Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SyncClient, staticDiscovery, type ClientStatus, type StatusDetail, type Update, type TlsOptions } from '@cattail/typha/client';
import { isSyncerType } from '@cattail/typha/protocol';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';

export const typhaWatchCommand: Command = {
  name: 'watch',
  summary: 'Connect to Typha as a client and print what it serves.',
  usage: `${BINARY_NAME} typha watch --addr=<ws://HOST:PORT> --syncer=<felix|bgp|ipam|status> [--node=<NAME>] [--until-in-sync] [-o json] [--timeout=<SECS>]`,
  flags: [
    { name: 'addr', value: 'URL', help: 'Typha to connect to: ws://HOST:PORT, wss://HOST:PORT or HOST:PORT (comma-separated for several).' },
    { name: 'syncer', value: 'TYPE', help: 'Syncer type: felix, bgp, ipam or status.' },
    { name: 'node', value: 'NAME', help: 'Node name to present (default: this host name).' },
    { name: 'until-in-sync', help: 'Print the state once in sync, then exit.' },
    { name: 'output', short: 'o', value: 'FORMAT', help: 'Output format: json (the only one).' },
    { name: 'timeout', value: 'SECS', help: 'With --until-in-sync: give up after this long (default 30).' },
    { name: 'codec', value: 'NAME', help: 'Wire format: msgpack (default) or json.' },
    { name: 'ca-file', value: 'FILE', help: 'CA that signed Typha’s certificate (wss).' },
    { name: 'cert-file', value: 'FILE', help: 'Client certificate (wss with client auth).' },
    { name: 'key-file', value: 'FILE', help: 'Client key.' },
    { name: 'server-cn', value: 'CN', help: 'Accept a Typha certificate with this CN.' },
  ],
  run: runWatch,
};

interface Printed {
  kind: string;
  namespace?: string;
  name: string;
  labels?: Record<string, string>;
  spec?: Record<string, unknown>;
}

function printable(u: Update): Printed {
  const p: Printed = { kind: u.kind, name: u.name };
  if (u.namespace) p.namespace = u.namespace;
  if (u.value?.labels) p.labels = u.value.labels;
  if (u.value) p.spec = u.value.spec ?? {};
  return p;
}

async function runWatch(ctx: CommandContext): Promise<number> {
  const a = ctx.args;
  const addr = a.string('addr');
  const syncer = a.string('syncer') ?? 'felix';
  if (!addr) throw new UsageError('--addr is required');
  if (!isSyncerType(syncer)) throw new UsageError(`unknown syncer "${syncer}" (felix, bgp, ipam or status)`);
  const output = a.string('output') ?? 'json';
  if (output !== 'json') throw new UsageError(`unknown output format "${output}" (json)`);
  const codec = a.string('codec') ?? 'msgpack';
  if (codec !== 'msgpack' && codec !== 'json') throw new UsageError(`unknown codec "${codec}"`);
  const timeoutSecs = Number(a.string('timeout') ?? '30');
  if (!Number.isFinite(timeoutSecs) || timeoutSecs <= 0) throw new UsageError(`--timeout must be a positive number of seconds`);
  const untilInSync = a.bool('until-in-sync');
  const tls = tlsOptions(ctx);

  let inSync = false;
  let lastProblem = '';
  let done!: (code: number) => void;
  const finished = new Promise<number>((r) => (done = r));
  const client: SyncClient = new SyncClient({
    syncer,
    node: a.string('node') ?? hostname(),
    codec,
    discovery: staticDiscovery(addr, { secure: tls !== undefined }),
    ...(tls ? { tls } : {}),
    clientId: `${BINARY_NAME}-typha-watch`,
    callbacks: {
      onStatus(status: ClientStatus, detail: StatusDetail) {
        if (status === 'disconnected') {
          lastProblem = `${detail.endpoint ?? addr}: ${detail.reason || detail.error?.message || 'disconnected'}${detail.code ? ` (code ${detail.code})` : ''}`;
          ctx.logger.warn({ detail: { ...detail, error: detail.error?.message } }, 'disconnected from Typha');
        }
        if (status !== 'in-sync' || inSync) return;
        inSync = true;
        const resources = client
          .snapshot()
          .filter((u) => u.value)
          .map(printable);
        writeLine(ctx.stdout, JSON.stringify({ revision: detail.revision, resources }, null, 2));
        if (untilInSync) done(0);
      },
      onUpdates(updates: Update[], revision: number) {
        if (!inSync || untilInSync) return;
        writeLine(ctx.stdout, JSON.stringify({ revision, updates: updates.map((u) => ({ ...printable(u), deleted: !u.value })) }));
      },
    },
  });
  const timer = untilInSync ? setTimeout(() => done(-1), timeoutSecs * 1000) : undefined;
  const onAbort = () => done(130);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  client.start();
  try {
    const code = await finished;
    if (code === -1) {
      throw new CommandFailedError(`not in sync after ${timeoutSecs}s${lastProblem ? `: last problem: ${lastProblem}` : ''}`);
    }
    return code === 130 && !untilInSync ? 0 : code;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    await client.close();
  }
}

function tlsOptions(ctx: CommandContext): TlsOptions | undefined {
  const ca = ctx.args.string('ca-file');
  const cert = ctx.args.string('cert-file');
  const key = ctx.args.string('key-file');
  const cn = ctx.args.string('server-cn');
  if (!ca && !cert && !key && !cn) return undefined;
  const read = (f: string | undefined) => {
    if (!f) return undefined;
    try {
      return readFileSync(f);
    } catch (err) {
      throw new CommandFailedError(`cannot read ${f}: ${(err as Error).message}`, 1, { cause: err });
    }
  };
  const tls: TlsOptions = {};
  const caPem = read(ca);
  if (caPem) tls.ca = caPem;
  const certPem = read(cert);
  const keyPem = read(key);
  if (certPem) tls.cert = certPem;
  if (keyPem) tls.key = keyPem;
  if (cn) tls.cn = cn;
  return tls;
}
