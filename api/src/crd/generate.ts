/**
 * The CustomResourceDefinitions Calico's Kubernetes datastore needs, one per Cattail kind Calico
 * keeps as a CRD (`calico-crds.ts`), each with a structural schema derived from the kind's
 * validation declaration (`openapi.ts`). Pure: `write.ts` renders and writes them to `api/crds/`,
 * and a test checks the committed files against a fresh generation.
 *
 * `metadata` is declared as a bare object: the apiserver validates ObjectMeta itself and refuses
 * a CRD that describes more of it than that.
 */
import { kindDef } from '../kinds/index.js';
import { allKinds, type KindInfo } from '../kinds.js';
import type { KindDef } from '../validation/kind-def.js';
import { CALICO_CRDS, CRD_GROUP, CRD_VERSION, type CalicoCRD } from './calico-crds.js';
import { toOpenAPI, type JSONSchemaProps } from './openapi.js';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string };
    /** Always false: set explicitly so that applying over a CRD first created as v1beta1 turns pruning on. */
    preserveUnknownFields: false;
    scope: 'Namespaced' | 'Cluster';
    versions: CRDVersion[];
  };
}

export interface CRDVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: JSONSchemaProps };
  subresources?: { status: Record<string, never> };
}

/**
 * Every CRD, in the order of `kinds.ts`. Relies on two guarantees the api tests give: every kind
 * has a validation declaration (`kinds/index.ts`), and every kind is in exactly one of
 * CALICO_CRDS and NOT_CRDS.
 */
export function generateCRDs(): CustomResourceDefinition[] {
  return allKinds().flatMap((info) => {
    const calico = CALICO_CRDS[info.kind];
    const def = kindDef(info.kind);
    return calico && def ? [crdFor(info, def, calico)] : [];
  });
}

/** One kind's CRD. */
export function crdFor(info: KindInfo, def: KindDef, calico: CalicoCRD): CustomResourceDefinition {
  const properties: Record<string, JSONSchemaProps> = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: toOpenAPI(def.spec),
  };
  if (def.status) properties.status = toOpenAPI(def.status);
  const version: CRDVersion = {
    name: CRD_VERSION,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: { type: 'object', properties } },
  };
  if (calico.statusSubresource) version.subresources = { status: {} };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${calico.plural}.${CRD_GROUP}` },
    spec: {
      group: CRD_GROUP,
      names: { kind: calico.kind, listKind: `${calico.kind}List`, plural: calico.plural, singular: calico.singular },
      preserveUnknownFields: false,
      scope: info.namespaced ? 'Namespaced' : 'Cluster',
      versions: [version],
    },
  };
}

/** The file a CRD is committed as, named as Calico names its own: `crd.projectcalico.org_ippools.yaml`. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `${crd.spec.group}_${crd.spec.names.plural}.yaml`;
}
