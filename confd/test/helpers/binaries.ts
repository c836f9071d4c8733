// Real binaries the tests need. A missing one fails the test with what to install; it never
// skips, so a machine without BIRD cannot pass the suite by accident.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const INSTALL: Readonly<Record<string, string>> = {
  bird: 'install BIRD 2 (Debian package bird2; `bash scripts/setup.sh` does it)',
  birdc: 'install BIRD 2 (Debian package bird2; `bash scripts/setup.sh` does it)',
  ip: 'install iproute2',
};

/** The binary's path; throws with what to install when it is missing. */
export function requireBinary(name: string): string {
  const p = findBinary(name);
  if (p === undefined) throw new Error(`${name} not found on PATH: ${INSTALL[name] ?? `install ${name}`}`);
  return p;
}
