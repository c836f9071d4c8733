/**
 * A CRD as the YAML file committed under `api/crds/`: deterministic, so that regenerating an
 * unchanged model gives the same bytes and a test can compare them. Map keys are sorted (as
 * Calico's controller-gen output sorts them); lists keep their order; no line folding; no
 * anchors (the yaml library would alias an object that appears twice).
 */
import { stringify } from 'yaml';
import type { CustomResourceDefinition } from './generate.js';

const HEADER = '# Generated from api/src/kinds by `npm run crds`. Do not edit: change the kind, then regenerate.\n';

export function renderCRD(crd: CustomResourceDefinition): string {
  return HEADER + stringify(crd, { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });
}
