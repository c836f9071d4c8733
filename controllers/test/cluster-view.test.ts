import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podAddresses } from '../src/cluster-view.js';

test('a pod’s addresses come from its status and the CNI plugin’s annotations, without prefix lengths, once each', () => {
  const p = podAddresses({
    metadata: {
      namespace: 'shop',
      name: 'web',
      annotations: { 'cni.projectcalico.org/podIP': '10.0.0.5/32', 'cni.projectcalico.org/podIPs': '10.0.0.5/32,fd00::5/128' },
    },
    spec: { nodeName: 'node-1' },
    status: { podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }] },
  });
  assert.deepEqual(p, { namespace: 'shop', name: 'web', node: 'node-1', ips: ['10.0.0.5', 'fd00::5'] });
  assert.deepEqual(podAddresses({ metadata: { namespace: 'a', name: 'b' } }), { namespace: 'a', name: 'b', node: '', ips: [] });
});
