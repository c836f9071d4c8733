/**
 * Installs Calico's CRDs (the generated manifests in `api/crds/`) on a test API server and
 * waits until every one is Established, so a Kubernetes-datastore test can create resources
 * right after.
 */
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeApiServer } from './kube-apiserver.js';

/** `api/crds/` of the enclosing checkout. */
export function calicoCrdDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'api', 'crds');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('api/crds not found above the datastore package');
}

export async function applyCalicoCrds(kube: KubeApiServer, timeoutSeconds = 60): Promise<void> {
  const dir = calicoCrdDir();
  await kube.kubectl(['apply', '--server-side', '-f', dir]);
  await kube.kubectl(['wait', '--for=condition=Established', `--timeout=${timeoutSeconds}s`, '-f', dir]);
}
