/**
 * IPAMHandle: the addresses one owner (a pod, a tunnel) holds, counted per block (libcalico-go
 * model `IPAMHandle`, stored at /calico/ipam/v2/handle/<handleID>). The name is the handle ID,
 * which the etcd key carries, so either may be left out and is filled from the other. Handle IDs
 * are not DNS names (`k8s-pod-network.<containerID>`, `ipip-tunnel-addr-<node>`): any text
 * without '/' will do.
 */
import type { ValidationIssue } from '../errors.js';
import { cidrText } from '../validation/formats.js';
import { asString, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { bool, int, mapOf, obj, str, test, type Infer } from '../validation/schema.js';

const spec = obj(
  {
    handleID: str(),
    block: mapOf(int(0), { key: test((k: string) => cidrText(k, { masked: true })) }),
    deleted: bool(),
  },
  { required: ['handleID'] },
);

export type IPAMHandleSpec = Infer<typeof spec>;

function handleName(name: string): string | undefined {
  if (name.includes('/')) return `"${name}" must not contain '/': it is a segment of the etcd key`;
  if (name.length > 253) return `is ${name.length} characters long; at most 253 are allowed`;
  return undefined;
}

function defaults(res: WithSpec): void {
  const id = asString(res.spec.handleID);
  if (!res.metadata.name && id) res.metadata.name = id;
  if (res.spec.handleID === undefined && res.metadata.name) res.spec.handleID = res.metadata.name;
  if (res.spec.block === undefined) res.spec.block = {};
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const id = asString(res.spec.handleID);
  if (id && res.metadata.name && id !== res.metadata.name) {
    issues.push({
      path: 'spec.handleID',
      message: `must equal metadata.name "${res.metadata.name}": a handle is stored under its ID`,
    });
  }
}

export const ipamHandle: KindDef = { kind: 'IPAMHandle', spec, name: handleName, defaults, rules };
