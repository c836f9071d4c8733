/**
 * What the chart's tests share: where the chart is, a `helm` runner, and rendered manifests
 * parsed into objects. helm is the one scripts/setup.sh builds (linked in .tools/bin), else the
 * one on PATH; when neither exists the run fails with KUBE_NOT_FOUND naming `npm run setup`, so
 * a machine without helm fails these tests instead of skipping them.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { findKubeBinary } from '@cattail/datastore/testing';

/** helm/ (this file runs from helm/dist/test/). */
export const HELM_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART_DIR = join(HELM_DIR, 'cattail');
export const REPO_ROOT = join(HELM_DIR, '..');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs helm; resolves with the exit code and output whatever the code (the caller asserts). */
export function helm(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  const bin = findKubeBinary('helm');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** helm, which must succeed: resolves to stdout, rejects with helm's stderr. */
export async function helmOk(args: readonly string[]): Promise<string> {
  const res = await helm(args);
  if (res.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return res.stdout;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every document of a multi-document YAML stream; a syntax error anywhere throws. */
export function parseManifests(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const obj = doc.toJS() as KubeObject | null;
    if (obj !== null) out.push(obj);
  }
  return out;
}

/** `helm template` of the chart with `--set` pairs, parsed. */
export async function render(sets: readonly string[] = [], extra: readonly string[] = []): Promise<KubeObject[]> {
  const args = ['template', 'cattail', CHART_DIR, '--namespace', 'cattail-system', ...sets.flatMap((s) => ['--set', s]), ...extra];
  return parseManifests(await helmOk(args));
}

export function find(objs: readonly KubeObject[], kind: string, nameSuffix: string): any {
  const hit = objs.find((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
  if (!hit) throw new Error(`no ${kind} *${nameSuffix} in ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit;
}

/** A container's env as name → value (valueFrom entries map to undefined). */
export function envOf(container: any): Map<string, string | undefined> {
  return new Map((container.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value] as const));
}
