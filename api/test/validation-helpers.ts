/**
 * Shared by the validation tests: documents built from a few fields, and assertions on the
 * issues `checkResource` reports (exact path, a fragment of the message).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { checkResource, type CheckResult } from '../src/validation/index.js';
import type { ValidationIssue } from '../src/errors.js';

export const V3 = 'projectcalico.org/v3';

/** A document of `kind` with `spec`, named `name` (and in `namespace` when given). */
export function doc(kind: string, spec: unknown, name = 'test', namespace?: string): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name };
  if (namespace) metadata.namespace = namespace;
  return { apiVersion: V3, kind, metadata, spec };
}

export function issuesOf(result: CheckResult): ValidationIssue[] {
  return result.ok ? [] : result.issues;
}

function show(issues: ValidationIssue[]): string {
  return issues.length ? issues.map((i) => `  ${i.path}: ${i.message}`).join('\n') : '  (none)';
}

/** The document is accepted; returns the defaulted resource. */
export function expectValid(d: unknown, label = ''): Record<string, any> {
  const r = checkResource(d);
  assert.ok(r.ok, `${label} expected valid, got issues:\n${show(issuesOf(r))}`);
  return r.resource;
}

/** The document is rejected with an issue at exactly `path` whose message contains `fragment`. */
export function expectIssue(d: unknown, path: string, fragment: string, label = ''): ValidationIssue[] {
  const r = checkResource(d);
  const issues = issuesOf(r);
  assert.ok(!r.ok, `${label} expected an issue at ${path}, but the document was accepted`);
  const hit = issues.find((i) => i.path === path && i.message.includes(fragment));
  assert.ok(hit, `${label} expected an issue at ${path} containing ${JSON.stringify(fragment)}, got:\n${show(issues)}`);
  return issues;
}

export interface Case {
  name: string;
  doc: unknown;
  /** Omitted for a valid document. */
  path?: string;
  message?: string;
}

/** Run a table: valid cases must pass, invalid ones must report `path` with `message`. */
export function runTable(cases: readonly Case[]): void {
  for (const c of cases) {
    if (c.path === undefined) expectValid(c.doc, c.name);
    else expectIssue(c.doc, c.path, c.message ?? '', c.name);
  }
}

const FIXTURES = new URL('../../test/fixtures/calico-docs/', import.meta.url);

/** The documents from Calico's documentation kept under test/fixtures/calico-docs. */
export function docFixtures(): Array<{ file: string; doc: Record<string, any> }> {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, doc: JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) }));
}

export function fixture(file: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8'));
}
