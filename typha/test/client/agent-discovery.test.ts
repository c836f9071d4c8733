import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentDiscovery } from '../../src/client/agent-discovery.js';
import { ClientConfigError } from '../../src/client/errors.js';
import { endpointSliceList } from './endpointslices.fixture.js';

describe('agentDiscovery (Calico precedence: address, then Kubernetes service)', () => {
  it('uses IP literals as given and resolves host names to every address', async () => {
    const asked: string[] = [];
    const d = agentDiscovery({
      typhaAddr: '10.0.0.5:5473, typha.calico-system.svc:6000',
      resolver: {
        resolve4: async (n) => (asked.push(n), ['10.1.0.1', '10.1.0.2']),
        resolve6: async () => [],
      },
    });
    const urls = (await d.endpoints()).map((e) => e.url).sort();
    assert.deepEqual(urls, ['ws://10.0.0.5:5473/sync', 'ws://10.1.0.1:6000/sync', 'ws://10.1.0.2:6000/sync']);
    assert.deepEqual(asked, ['typha.calico-system.svc']);
  });

  it('keeps the last known replicas when DNS fails', async () => {
    let fail = false;
    const d = agentDiscovery({
      typhaAddr: 'typha:5473',
      resolver: {
        resolve4: async () => {
          if (fail) throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
          return ['10.2.0.1'];
        },
        resolve6: async () => [],
      },
    });
    assert.equal((await d.endpoints()).length, 1);
    fail = true;
    assert.deepEqual(
      (await d.endpoints()).map((e) => e.url),
      ['ws://10.2.0.1:5473/sync'],
    );
  });

  it('reads the Kubernetes service with the pod credentials when no address is set', async () => {
    const sa = mkdtempSync(join(tmpdir(), 'cattail-sa-'));
    writeFileSync(join(sa, 'token'), 'tok-123\n');
    const seen: Array<{ url: string; auth: string | undefined }> = [];
    const d = agentDiscovery({
      k8sServiceName: 'calico-typha',
      k8sNamespace: 'calico-system',
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: sa,
      fetch: async (url, init) => {
        seen.push({ url, auth: init.headers.authorization ?? init.headers.Authorization });
        return { ok: true, status: 200, json: async () => endpointSliceList };
      },
    });
    const eps = await d.endpoints();
    assert.ok(eps.length > 0);
    assert.match(seen[0].url, /^https:\/\/10\.96\.0\.1(:443)?\/apis\/discovery\.k8s\.io\/v1\/namespaces\/calico-system\/endpointslices\?labelSelector=/);
    assert.equal(seen[0].auth, 'Bearer tok-123');
  });

  it('says what is missing', () => {
    assert.throws(() => agentDiscovery({}), ClientConfigError);
    assert.throws(() => agentDiscovery({ k8sServiceName: 'calico-typha', env: {} }), /KUBERNETES_SERVICE_HOST/);
  });
});
