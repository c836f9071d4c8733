/**
 * BGP passwords from files laid out like a mounted Kubernetes Secret volume:
 * `<dir>/<secret name>/<key>`. Calico's confd reads the Secret through the API server; cattail's
 * confd only talks to Typha, so the node's secrets are mounted (or written by the operator) under
 * CONFD_SECRETSDIR. One trailing newline is dropped (`echo pw > file` writes one, and BIRD
 * strings cannot hold a newline anyway). Read on every render, so a rotated password is picked
 * up by the next periodic reconcile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretReader } from '../render/bird-config.js';

const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._-]+$/;

export function fileSecretReader(dir: string): SecretReader {
  return (ref) => {
    if (ref.name === undefined || !SEGMENT.test(ref.name) || !SEGMENT.test(ref.key)) {
      return { error: 'secret name and key must be plain names (letters, digits, ".", "_", "-")' };
    }
    const path = join(dir, ref.name, ref.key);
    try {
      return { value: readFileSync(path, 'utf8').replace(/\r?\n$/, '') };
    } catch (err) {
      return { error: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
  };
}
