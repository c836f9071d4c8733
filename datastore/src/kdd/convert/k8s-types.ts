/**
 * The few fields of Kubernetes objects the conversions read, as the API server returns them in
 * JSON (core/v1 Pod, Namespace, ServiceAccount, Node; networking.k8s.io/v1 NetworkPolicy).
 *
 * These are views, not guarantees: a watcher hands over whatever JSON it decoded, so every field
 * is optional here and the conversions check each value's type before using it (`read.ts`). A
 * field the conversions do not read is not declared.
 */

export interface K8sObjectMeta {
  name?: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
}

export interface K8sContainerPort {
  name?: string;
  containerPort?: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}

export interface K8sContainer {
  name?: string;
  ports?: K8sContainerPort[] | null;
}

export interface K8sPod {
  metadata?: K8sObjectMeta;
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
    containers?: K8sContainer[] | null;
    initContainers?: K8sContainer[] | null;
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: Array<{ ip?: string }> | null;
  };
}

export interface K8sNamespace {
  metadata?: K8sObjectMeta;
}

export interface K8sServiceAccount {
  metadata?: K8sObjectMeta;
}

export interface K8sNode {
  metadata?: K8sObjectMeta;
  spec?: {
    podCIDR?: string;
    podCIDRs?: string[] | null;
  };
  status?: {
    addresses?: Array<{ type?: string; address?: string }> | null;
  };
}

export interface K8sLabelSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[] | null;
}

export interface K8sLabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: K8sLabelSelectorRequirement[] | null;
}

export interface K8sIPBlock {
  cidr?: string;
  except?: string[] | null;
}

export interface K8sNetworkPolicyPeer {
  podSelector?: K8sLabelSelector | null;
  namespaceSelector?: K8sLabelSelector | null;
  ipBlock?: K8sIPBlock | null;
}

export interface K8sNetworkPolicyPort {
  protocol?: string;
  /** A number, or a named port (IntOrString). */
  port?: number | string;
  endPort?: number;
}

export interface K8sNetworkPolicy {
  metadata?: K8sObjectMeta;
  spec?: {
    podSelector?: K8sLabelSelector | null;
    ingress?: Array<{ from?: K8sNetworkPolicyPeer[] | null; ports?: K8sNetworkPolicyPort[] | null }> | null;
    egress?: Array<{ to?: K8sNetworkPolicyPeer[] | null; ports?: K8sNetworkPolicyPort[] | null }> | null;
    policyTypes?: string[] | null;
  };
}

export interface K8sServicePort {
  name?: string;
  protocol?: string;
  port?: number;
}

export interface K8sService {
  metadata?: K8sObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalIPs?: string[];
    ports?: K8sServicePort[];
    externalTrafficPolicy?: string;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}

export interface K8sEndpointSlice {
  metadata?: K8sObjectMeta;
  addressType?: string;
  endpoints?: Array<{ addresses?: string[]; nodeName?: string; conditions?: { ready?: boolean } }>;
  ports?: K8sServicePort[];
}
