import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  ClientConfigError,
  DiscoveryError,
  cachingDiscovery,
  dnsDiscovery,
  k8sServiceDiscovery,
  orderEndpoints,
  staticDiscovery,
  toUrl,
  type Discovery,
  type Endpoint,
  type FetchLike,
} from '../../src/client/index.js';
import { endpointSliceList } from './endpointslices.fixture.js';
import { sequence } from './helpers.js';

describe('toUrl', () => {
  const cases: Array<[string, string, boolean?]> = [
    ['10.0.0.5:5473', 'ws://10.0.0.5:5473/sync'],
    ['typha.calico-system.svc', 'ws://typha.calico-system.svc:5473/sync'],
    ['[fd00::5]:6000', 'ws://[fd00::5]:6000/sync'],
    ['fd00::5', 'ws://[fd00::5]:5473/sync'],
    ['[fd00::5]', 'wss://[fd00::5]:5473/sync', true],
    [' typha-0:5473 ', 'wss://typha-0:5473/sync', true],
    ['ws://10.0.0.5:5473/sync', 'ws://10.0.0.5:5473/sync', true],
    ['ws://10.0.0.5:5473', 'ws://10.0.0.5:5473/sync'],
    ['wss://typha:5473/', 'wss://typha:5473/sync'],
    ['ws://10.0.0.5:5473/custom', 'ws://10.0.0.5:5473/custom'],
    ['wss://typha.example/custom', 'wss://typha.example/custom'],
  ];
  for (const [address, url, secure] of cases) {
    it(`${address}${secure ? ' (secure)' : ''} → ${url}`, () => assert.equal(toUrl(address, { secure }), url));
  }

  for (const bad of ['http://10.0.0.5:5473', '10.0.0.5:0', '10.0.0.5:70000', 'a b:1', 'ws://', 'host:port', '']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => toUrl(bad), ClientConfigError));
  }
});

describe('orderEndpoints', () => {
  const eps: Endpoint[] = [{ url: 'ws://a/sync', node: 'n1' }, { url: 'ws://b/sync', node: 'n2' }, { url: 'ws://c/sync', node: 'n3' }, { url: 'ws://d/sync' }];

  it('puts same-node replicas first', () => {
    const order = orderEndpoints(eps, 'n3', sequence(0, 0, 0));
    assert.equal(order[0].url, 'ws://c/sync');
    assert.equal(order.length, 4);
  });

  it('shuffles with the injected random (Fisher–Yates), deterministically', () => {
    // i=3: j=floor(0*4)=0 → swap 3,0; i=2: j=floor(0.99*3)=2; i=1: j=floor(0.5*2)=1
    assert.deepEqual(
      orderEndpoints(eps, 'none', sequence(0, 0.99, 0.5)).map((e) => e.url),
      ['ws://d/sync', 'ws://b/sync', 'ws://c/sync', 'ws://a/sync'],
    );
    assert.deepEqual(
      orderEndpoints(eps, 'none', () => 0.999).map((e) => e.url),
      ['ws://a/sync', 'ws://b/sync', 'ws://c/sync', 'ws://d/sync'],
    );
  });

  it('spreads many clients over the replicas', () => {
    let seed = 7;
    const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const firsts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const first = orderEndpoints(eps, 'elsewhere', lcg)[0].url;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    assert.equal(firsts.size, 4);
    for (const n of firsts.values()) assert.ok(n > 800 && n < 1200, `uneven spread: ${[...firsts.values()]}`);
  });

  it('removes duplicate URLs, keeping the one that knows its node', () => {
    const order = orderEndpoints([{ url: 'ws://a/sync' }, { url: 'ws://a/sync', node: 'n1' }], 'n1', () => 0);
    assert.deepEqual(order, [{ url: 'ws://a/sync', node: 'n1' }]);
  });
});

describe('staticDiscovery', () => {
  it('accepts Calico-style host:port, URLs and endpoint objects, in a list or one string', async () => {
    const d = staticDiscovery(['10.0.0.5:5473', 'wss://typha-1.example:443/sync', { url: '10.0.0.7', node: 'node-7' }]);
    assert.deepEqual(await d.endpoints(), [
      { url: 'ws://10.0.0.5:5473/sync' },
      { url: 'wss://typha-1.example:443/sync' },
      { url: 'ws://10.0.0.7:5473/sync', node: 'node-7' },
    ]);
    assert.deepEqual(await staticDiscovery('10.0.0.5:5473, 10.0.0.6:5473', { secure: true }).endpoints(), [
      { url: 'wss://10.0.0.5:5473/sync' },
      { url: 'wss://10.0.0.6:5473/sync' },
    ]);
  });

  it('hands out copies, so a caller reordering them cannot corrupt the list', async () => {
    const d = staticDiscovery(['a:1', 'b:2']);
    const first = await d.endpoints();
    first.reverse();
    first[0].url = 'mangled';
    assert.deepEqual(
      (await d.endpoints()).map((e) => e.url),
      ['ws://a:1/sync', 'ws://b:2/sync'],
    );
  });

  it('checks every address at construction', () => {
    assert.throws(() => staticDiscovery(['10.0.0.5:5473', 'http://x']), /use host:port, ws:\/\/ or wss:\/\//);
    assert.throws(() => staticDiscovery([]), /list is empty/);
    assert.throws(() => staticDiscovery(' , '), ClientConfigError);
  });
});

describe('dnsDiscovery', () => {
  function errno(code: string): Error {
    return Object.assign(new Error(`queryA ${code} typha`), { code });
  }

  it('returns every A and AAAA address, sorted and deduplicated', async () => {
    const asked: string[] = [];
    const d = dnsDiscovery('typha.calico-system.svc.cluster.local', 5473, {
      resolver: {
        resolve4: async (n) => (asked.push(`A ${n}`), ['10.0.0.12', '10.0.0.11', '10.0.0.12']),
        resolve6: async (n) => (asked.push(`AAAA ${n}`), ['fd00:10::11']),
      },
    });
    assert.deepEqual(await d.endpoints(), [{ url: 'ws://10.0.0.11:5473/sync' }, { url: 'ws://10.0.0.12:5473/sync' }, { url: 'ws://[fd00:10::11]:5473/sync' }]);
    assert.deepEqual(asked.sort(), ['A typha.calico-system.svc.cluster.local', 'AAAA typha.calico-system.svc.cluster.local']);
  });

  it('treats a missing family as absent, not as a failure', async () => {
    const d = dnsDiscovery('typha', 6000, {
      secure: true,
      resolver: { resolve4: async () => ['10.0.0.11'], resolve6: () => Promise.reject(errno('ENODATA')) },
    });
    assert.deepEqual(await d.endpoints(), [{ url: 'wss://10.0.0.11:6000/sync' }]);
  });

  it('returns nothing for a name without records, and fails when the resolver fails', async () => {
    const none = dnsDiscovery('typha', 5473, {
      resolver: { resolve4: () => Promise.reject(errno('ENOTFOUND')), resolve6: () => Promise.reject(errno('ENODATA')) },
    });
    assert.deepEqual(await none.endpoints(), []);
    const broken = dnsDiscovery('typha', 5473, {
      resolver: { resolve4: () => Promise.reject(errno('ETIMEOUT')), resolve6: () => Promise.reject(errno('ECONNREFUSED')) },
    });
    await assert.rejects(broken.endpoints(), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError);
      assert.equal(err.code, 'TYPHA_DISCOVERY_FAILED');
      assert.match(err.message, /cannot resolve "typha": ETIMEOUT/);
      assert.ok(err.cause instanceof AggregateError);
      return true;
    });
  });

  it('passes an IP literal through without asking DNS', async () => {
    const d = dnsDiscovery('fd00::7', 5473, { resolver: { resolve4: () => assert.fail('asked DNS'), resolve6: () => assert.fail('asked DNS') } });
    assert.deepEqual(await d.endpoints(), [{ url: 'ws://[fd00::7]:5473/sync' }]);
  });

  it('validates its arguments at construction', () => {
    assert.throws(() => dnsDiscovery('', 5473), ClientConfigError);
    assert.throws(() => dnsDiscovery('typha', 0), ClientConfigError);
  });
});

describe('k8sServiceDiscovery', () => {
  interface Call {
    url: string;
    headers: Record<string, string>;
  }

  function fakeFetch(responses: Array<{ status?: number; body: unknown }>, calls: Call[]): FetchLike {
    return async (url, init) => {
      calls.push({ url, headers: init.headers });
      const r = responses[Math.min(calls.length - 1, responses.length - 1)];
      const status = r.status ?? 200;
      return { ok: status < 300, status, statusText: status === 403 ? 'Forbidden' : 'OK', json: async () => r.body };
    };
  }

  const base = { namespace: 'calico-system', service: 'cattail-typha', apiServer: 'https://10.96.0.1:443' };

  it('lists the ready endpoints of the service on the named port, with their nodes', async () => {
    const calls: Call[] = [];
    const d = k8sServiceDiscovery({ ...base, token: 'sa-token', fetch: fakeFetch([{ body: endpointSliceList }], calls) });
    assert.deepEqual(await d.endpoints(), [
      { url: 'ws://10.0.0.11:5473/sync', node: 'node-1' },
      { url: 'ws://10.0.0.12:5473/sync', node: 'node-2' },
      { url: 'ws://[fd00:10::11]:5473/sync', node: 'node-1' },
      { url: 'ws://[fd00:10::12]:5473/sync', node: 'node-2' },
    ]);
    assert.equal(calls.length, 1);
    assert.equal(
      calls[0].url,
      'https://10.96.0.1/apis/discovery.k8s.io/v1/namespaces/calico-system/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dcattail-typha',
    );
    assert.equal(calls[0].headers.authorization, 'Bearer sa-token');
  });

  it('uses the port with the given name and wss:// when secure', async () => {
    const d = k8sServiceDiscovery({ ...base, portName: 'metrics', secure: true, fetch: fakeFetch([{ body: endpointSliceList }], []) });
    const urls = (await d.endpoints()).map((e) => e.url);
    assert.deepEqual(urls, ['wss://10.0.0.11:9093/sync', 'wss://10.0.0.12:9093/sync', 'wss://[fd00:10::11]:9093/sync', 'wss://[fd00:10::12]:9093/sync']);
  });

  it('follows continue tokens and reads a rotating token on every call', async () => {
    const calls: Call[] = [];
    const [v4, v6] = endpointSliceList.items;
    let n = 0;
    const d = k8sServiceDiscovery({
      ...base,
      apiServer: 'https://kubernetes.default.svc/',
      token: () => `t${++n}`,
      fetch: fakeFetch([{ body: { items: [v4], metadata: { continue: 'abc=' } } }, { body: { items: [v6], metadata: {} } }], calls),
    });
    assert.equal((await d.endpoints()).length, 4);
    assert.match(calls[1].url, /&continue=abc%3D$/);
    assert.deepEqual(
      calls.map((c) => c.headers.authorization),
      ['Bearer t1', 'Bearer t1'],
    );
    await d.endpoints();
    assert.equal(calls[2].headers.authorization, 'Bearer t2');
  });

  it('reports an API error with its status and what to check', async () => {
    const d = k8sServiceDiscovery({ ...base, fetch: fakeFetch([{ status: 403, body: { kind: 'Status', reason: 'Forbidden' } }], []) });
    await assert.rejects(d.endpoints(), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError);
      assert.equal(err.status, 403);
      assert.match(err.message, /HTTP 403 Forbidden \(check the token and RBAC: list endpointslices in calico-system\)/);
      return true;
    });
  });

  it('reports a network failure and a body that is not a list', async () => {
    const failing = k8sServiceDiscovery({ ...base, fetch: () => Promise.reject(new Error('connect ECONNREFUSED 10.96.0.1:443')) });
    await assert.rejects(failing.endpoints(), /ECONNREFUSED/);
    const odd = k8sServiceDiscovery({ ...base, fetch: fakeFetch([{ body: { kind: 'Status' } }], []) });
    await assert.rejects(odd.endpoints(), /response has no items list/);
  });

  it('talks HTTP to a real server with its default client', async (t) => {
    const seen: Array<{ url?: string; auth?: string }> = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(endpointSliceList));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const { port } = server.address() as AddressInfo;
    const d = k8sServiceDiscovery({ ...base, apiServer: `http://127.0.0.1:${port}`, token: 'tok' });
    assert.equal((await d.endpoints()).length, 4);
    assert.deepEqual(seen, [
      {
        url: '/apis/discovery.k8s.io/v1/namespaces/calico-system/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dcattail-typha',
        auth: 'Bearer tok',
      },
    ]);
  });

  it('requires namespace, service and a valid apiServer', () => {
    assert.throws(() => k8sServiceDiscovery({ ...base, service: '' }), /service is required/);
    assert.throws(() => k8sServiceDiscovery({ ...base, apiServer: 'not a url' }), ClientConfigError);
  });
});

describe('cachingDiscovery', () => {
  function scripted(results: Array<Endpoint[] | Error>): Discovery {
    let i = 0;
    return {
      endpoints: () => {
        const r = results[Math.min(i++, results.length - 1)];
        return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
      },
    };
  }

  it('keeps the last non-empty list through failures and empty answers', async () => {
    const one = [{ url: 'ws://a:1/sync' }];
    const two = [{ url: 'ws://b:1/sync', node: 'n2' }];
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: object | string, m?: string) => warnings.push(m ?? ''), child: () => logger };
    const d = cachingDiscovery(scripted([one, new DiscoveryError('api down'), [], two, []]), { logger });
    assert.deepEqual(await d.endpoints(), one);
    assert.deepEqual(await d.endpoints(), one);
    assert.deepEqual(await d.endpoints(), one);
    assert.deepEqual(await d.endpoints(), two);
    assert.deepEqual(await d.endpoints(), two);
    assert.equal(warnings.length, 3);
  });

  it('surfaces the error while nothing was ever found', async () => {
    const d = cachingDiscovery(scripted([new DiscoveryError('api down'), []]));
    await assert.rejects(d.endpoints(), DiscoveryError);
    assert.deepEqual(await d.endpoints(), []);
  });

  it('returns copies of what it keeps', async () => {
    const d = cachingDiscovery(scripted([[{ url: 'ws://a:1/sync' }], new Error('x')]));
    (await d.endpoints())[0].url = 'mangled';
    assert.deepEqual(await d.endpoints(), [{ url: 'ws://a:1/sync' }]);
  });
});
