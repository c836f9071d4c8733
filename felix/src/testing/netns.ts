/**
 * `@cattail/felix/testing`: helpers for real network namespaces, shared by Felix's tests and the
 * Felix benchmarks. Names unique per run (`<tag>-<random>-<role>`), removed by the caller's own
 * cleanup, and a clear failure when the host cannot run them.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Runs a command and returns its stdout; `input`, when given, is written to its stdin. */
export async function run(file: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await execFileP(file, args, { encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

/** Resolves true when the command exits 0. */
export async function succeeds(file: string, args: string[]): Promise<boolean> {
  try {
    await execFileP(file, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws a message naming what is missing when the caller (`this test`, `this benchmark`)
 * cannot use namespaces and nftables.
 */
export async function requireNetnsTools(who = 'this test'): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`${who} needs root (network namespaces, nftables); run it as root`);
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['nft', ['--version']],
    ['sysctl', ['--version']],
  ] as const) {
    if (!(await succeeds(tool, [...args]))) throw new Error(`${who} needs \`${tool}\` on PATH (apt-get install iproute2 nftables procps)`);
  }
}

/** `<tag>-<6 hex>`; the 6 hex also serve as an interface-name tag. */
export function uniquePrefix(tag = 'cfx'): string {
  return `${tag}-${randomBytes(3).toString('hex')}`;
}

/** Creates a namespace and returns its name; the caller registers `deleteNetns` in its cleanup. */
export async function createNetns(name: string): Promise<string> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export async function deleteNetns(name: string): Promise<void> {
  await succeeds('ip', ['netns', 'del', name]);
}

/** A pod as a CNI plugin wires it: veth `iface` in `node`, eth0 with `ip/32` and a default via 169.254.1.1. */
export async function wirePod(node: string, pod: string, iface: string, ip: string): Promise<void> {
  await run('ip', ['-n', node, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
  await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
  await run('ip', ['-n', pod, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', pod, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
}

/** How long `ping` waits for the reply: a failed probe's echo went out at least this long before it returned. */
export const PING_DEADLINE_MS = 1_000;

/** One ICMP echo with a PING_DEADLINE_MS deadline; true when answered. */
export async function ping(pod: string, ip: string): Promise<boolean> {
  return succeeds('ip', ['netns', 'exec', pod, 'ping', '-c', '1', '-W', String(PING_DEADLINE_MS / 1000), ip]);
}

/**
 * True when a TCP connection from namespace `ns` to `host:port` is established within
 * `timeoutMs` (a dropped SYN or SYN-ACK times out; a reset fails at once).
 */
export async function tcpConnects(ns: string, host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  const client = `const s = require('node:net').connect(${port}, ${JSON.stringify(host)}, () => process.exit(0)); s.on('error', () => process.exit(2)); setTimeout(() => process.exit(1), ${timeoutMs});`;
  return succeeds('ip', ['netns', 'exec', ns, process.execPath, '-e', client]);
}

/** TCP listeners on `ports` (every address) in namespace `ns`; each connection is closed at once. */
export interface TcpListeners {
  /** Ends the listener process (by its own PID). */
  close(): void;
}

export async function listenTcp(ns: string, ports: number[], timeoutMs = 10_000): Promise<TcpListeners> {
  const script = `
const net = require('node:net');
let n = 0;
for (const port of ${JSON.stringify(ports)}) net.createServer((s) => s.end()).listen(port, '::', () => { if (++n === ${ports.length}) process.stdout.write('ready\\n'); });`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const close = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listeners on ${ports.join(', ')} in ${ns} not ready within ${timeoutMs} ms`)), timeoutMs);
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`listeners in ${ns} exited with ${code}`));
      });
    });
  } catch (err) {
    close();
    throw err;
  }
  return { close };
}
