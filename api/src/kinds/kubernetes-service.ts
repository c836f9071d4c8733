/**
 * KubernetesService and KubernetesEndpointSlice: the parts of a Kubernetes Service and of its
 * EndpointSlices that Felix (`services` in policy rules) and confd (per-service /32 and /128
 * advertisement) read. Calico's syncers carry the same two kinds (`KubernetesService`,
 * `KubernetesEndpointSlice`) whole; Cattail carries only these fields, converted once by the
 * Kubernetes datastore (datastore/src/kdd/convert/service.ts), so every Felix and confd is not
 * woken by status and annotation churn.
 *
 * Neither is a Calico resource: no CRD, never written by Cattail, and only the Kubernetes
 * datastore produces them (etcd mode has no Services, as in Calico). Their keys exist only
 * inside Typha's stream:
 *
 *   /calico/resources/v3/projectcalico.org/kubernetesservices/<ns>/<service>
 *   /calico/resources/v3/projectcalico.org/kubernetesendpointslices/<ns>/<slice>
 */
import type { ValidationIssue } from '../errors.js';
import { ip } from '../validation/fields.js';
import { ipAddress } from '../validation/formats.js';
import { asArray, asObject, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, bool, int, obj, oneOf, str, type Infer } from '../validation/schema.js';

const protocol = () => oneOf(['TCP', 'UDP', 'SCTP'] as const);

const servicePort = obj({ name: str(), protocol: protocol(), port: int(1, 65535) }, { required: ['port'] });

const serviceSpec = obj({
  type: oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const),
  /** `spec.clusterIPs` (a headless service has none). */
  clusterIPs: arr(ip()),
  externalIPs: arr(ip()),
  /** `status.loadBalancer.ingress[].ip`. */
  loadBalancerIPs: arr(ip()),
  ports: arr(servicePort),
  externalTrafficPolicy: oneOf(['Cluster', 'Local'] as const),
});

export type KubernetesServiceSpec = Infer<typeof serviceSpec>;

const slicePort = obj({ name: str(), protocol: protocol(), port: int(1, 65535) });

const sliceSpec = obj(
  {
    /** The Service the slice belongs to (label `kubernetes.io/service-name`). */
    serviceName: str(),
    addressType: oneOf(['IPv4', 'IPv6', 'FQDN'] as const),
    endpoints: arr(obj({ addresses: arr(str()), nodeName: str(), ready: bool() })),
    ports: arr(slicePort),
  },
  { required: ['serviceName'] },
);

export type KubernetesEndpointSliceSpec = Infer<typeof sliceSpec>;

function sliceRules(res: WithSpec, issues: ValidationIssue[]): void {
  if (res.spec.addressType === 'FQDN') return;
  asArray(res.spec.endpoints).forEach((e, i) => {
    asArray(asObject(e)?.addresses).forEach((a, j) => {
      if (typeof a !== 'string') return;
      const problem = ipAddress(a);
      if (problem) issues.push({ path: `spec.endpoints[${i}].addresses[${j}]`, message: problem });
    });
  });
}

export const kubernetesService: KindDef = { kind: 'KubernetesService', spec: serviceSpec };
export const kubernetesEndpointSlice: KindDef = { kind: 'KubernetesEndpointSlice', spec: sliceSpec, rules: sliceRules };
