/**
 * Test helpers for real network namespaces: names unique per run (`cfx-<random>-<role>`),
 * removed by the test's own cleanup, and a clear failure when the host cannot run them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export async function run(file: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(file, args, { encoding: 'utf8' });
  return stdout;
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

/** Throws a message naming what is missing when the test cannot use namespaces and nftables. */
export async function requireNetnsTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (network namespaces, nftables); run it as root');
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['nft', ['--version']],
    ['sysctl', ['--version']],
  ] as const) {
    if (!(await succeeds(tool, [...args]))) throw new Error(`this test needs \`${tool}\` on PATH (apt-get install iproute2 nftables procps)`);
  }
}

export function uniquePrefix(): string {
  return `cfx-${randomBytes(3).toString('hex')}`;
}

/** Creates a namespace and returns its name; the caller registers `deleteNetns` in t.after. */
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

/** One ICMP echo with a 1 s deadline; true when answered. */
export async function ping(pod: string, ip: string): Promise<boolean> {
  return succeeds('ip', ['netns', 'exec', pod, 'ping', '-c', '1', '-W', '1', ip]);
}
