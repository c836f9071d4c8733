/**
 * Network-namespace helpers for the Felix benchmarks (copied in spirit from
 * felix/test/dataplane/netns.ts, which bench cannot import): names `cfxb-<random>-<role>`,
 * a cleanup stack that runs even after a failure, and pod wiring as a CNI plugin does it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export async function run(file: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await execFileP(file, args, { encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

export async function succeeds(file: string, args: string[]): Promise<boolean> {
  try {
    await execFileP(file, args);
    return true;
  } catch {
    return false;
  }
}

export async function requireNetnsTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('this benchmark needs root (network namespaces, nftables)');
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['nft', ['--version']],
    ['sysctl', ['--version']],
  ] as const) {
    if (!(await succeeds(tool, [...args]))) throw new Error(`this benchmark needs \`${tool}\` on PATH`);
  }
}

/** `cfxb-<6 hex>`; the 6 hex also serve as an interface-name tag. */
export function uniquePrefix(): string {
  return `cfxb-${randomBytes(3).toString('hex')}`;
}

export async function createNetns(name: string): Promise<string> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export async function deleteNetns(name: string): Promise<void> {
  await succeeds('ip', ['netns', 'del', name]);
}

/** A node with a default route (proxy ARP for the pods' 169.254.1.1 gateway needs one). */
export async function createNode(name: string): Promise<void> {
  await createNetns(name);
  await run('ip', ['-n', name, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1']);
  await run('ip', ['-n', name, 'link', 'set', 'ext1', 'up']);
  await run('ip', ['-n', name, 'link', 'set', 'ext0', 'up']);
  await run('ip', ['-n', name, 'route', 'add', 'default', 'dev', 'ext0']);
}

export async function wirePod(node: string, pod: string, iface: string, ip: string): Promise<void> {
  await run('ip', ['-n', node, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
  await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
  await run('ip', ['-n', pod, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', pod, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
}

/** Runs cleanup steps last-first, every one even if another fails; also on SIGINT/SIGTERM. */
export class Cleanup {
  readonly #steps: Array<() => unknown> = [];
  #done = false;
  constructor() {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        void this.run().finally(() => process.exit(130));
      });
    }
  }
  push(step: () => unknown): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    for (const step of this.#steps.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
  }
}

export function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
