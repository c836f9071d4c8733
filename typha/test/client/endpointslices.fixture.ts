/**
 * `kubectl get --raw '/apis/discovery.k8s.io/v1/namespaces/calico-system/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dcattail-typha'`
 * from a three-replica Typha in a dual-stack cluster, mid-rollout: one replica terminating, one
 * not yet ready, one slice per address family, plus the metrics port.
 */
export const endpointSliceList = {
  kind: 'EndpointSliceList',
  apiVersion: 'discovery.k8s.io/v1',
  metadata: { resourceVersion: '918273' },
  items: [
    {
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: {
        name: 'cattail-typha-7xk2p',
        generateName: 'cattail-typha-',
        namespace: 'calico-system',
        uid: '0d4f6c1e-7d0c-4f0b-9d6a-2f3e1b7c9a11',
        resourceVersion: '918270',
        generation: 12,
        creationTimestamp: '2024-05-30T09:12:44Z',
        labels: {
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          'k8s-app': 'cattail-typha',
          'kubernetes.io/service-name': 'cattail-typha',
        },
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-06-01T10:01:02Z' },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Service', name: 'cattail-typha', uid: 'b3c9a8e2-1111-4c4c-8a8a-0c0c0c0c0c0c', controller: true, blockOwnerDeletion: true },
        ],
      },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['10.0.0.11'],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: { kind: 'Pod', namespace: 'calico-system', name: 'cattail-typha-5f7c9d8b6-abcde', uid: 'aaaaaaaa-0000-0000-0000-000000000001' },
          nodeName: 'node-1',
          zone: 'eu-west-1a',
        },
        {
          addresses: ['10.0.0.12'],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: { kind: 'Pod', namespace: 'calico-system', name: 'cattail-typha-5f7c9d8b6-fghij', uid: 'aaaaaaaa-0000-0000-0000-000000000002' },
          nodeName: 'node-2',
          zone: 'eu-west-1b',
        },
        {
          addresses: ['10.0.0.13'],
          conditions: { ready: false, serving: true, terminating: true },
          targetRef: { kind: 'Pod', namespace: 'calico-system', name: 'cattail-typha-5f7c9d8b6-klmno', uid: 'aaaaaaaa-0000-0000-0000-000000000003' },
          nodeName: 'node-3',
          zone: 'eu-west-1c',
        },
        {
          addresses: ['10.0.0.14'],
          conditions: { ready: false, serving: false, terminating: false },
          targetRef: { kind: 'Pod', namespace: 'calico-system', name: 'cattail-typha-5f7c9d8b6-pqrst', uid: 'aaaaaaaa-0000-0000-0000-000000000004' },
          nodeName: 'node-4',
          zone: 'eu-west-1a',
        },
      ],
      ports: [
        { name: 'metrics', protocol: 'TCP', port: 9093 },
        { name: 'cattail-typha', protocol: 'TCP', port: 5473 },
      ],
    },
    {
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: {
        name: 'cattail-typha-q9w8e',
        generateName: 'cattail-typha-',
        namespace: 'calico-system',
        labels: {
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          'kubernetes.io/service-name': 'cattail-typha',
        },
      },
      addressType: 'IPv6',
      endpoints: [
        {
          addresses: ['fd00:10::11'],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: 'node-1',
        },
        {
          // ready unknown: the API says to treat it as ready
          addresses: ['fd00:10::12'],
          conditions: {},
          nodeName: 'node-2',
        },
      ],
      ports: [
        { name: 'cattail-typha', protocol: 'TCP', port: 5473 },
        { name: 'metrics', protocol: 'TCP', port: 9093 },
      ],
    },
  ],
};
