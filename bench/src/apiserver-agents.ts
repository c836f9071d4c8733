/**
 * A worker process of `bench:apiserver`: `count` Felix-like agents, either
 *
 *   direct  each one HTTP/2 connection to the API server (as client-go makes) carrying a list and
 *           then a watch (with bookmarks) of every collection Typha's felix syncer carries: what a
 *           Felix without Typha watches itself; synced once every list has been read
 *   typha   each one SyncClient of the felix syncer on the Typha replicas; synced at InSync
 *
 * It reports {type: 'synced', agents} through IPC once every agent is synced, and
 * {type: 'events', events} every second (watch events, bookmarks left out, or updates received
 * since every agent was synced), and runs until
 * it is sent SIGTERM (or its parent goes). Started and ended by pid by apiserver.ts.
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { readFileSync } from 'node:fs';
import { kdd } from '@cattail/datastore';
import { SyncClient, staticDiscovery } from '@cattail/typha/client';
import { syncerKinds } from '@cattail/typha/protocol';

export interface AgentsConfig {
  mode: 'direct' | 'typha';
  count: number;
  /** direct: the API server and the admin credentials' files. */
  server?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** typha: `host:port,host:port`. */
  typhaAddrs?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as AgentsConfig;
let events = 0;
let synced = 0;
const closers: Array<() => void> = [];

function send(msg: object): void {
  process.send?.(msg);
}

/** Once every agent is synced, the count restarts: what follows is the churn's traffic only. */
function markSynced(): void {
  if (++synced === config.count) {
    events = 0;
    send({ type: 'synced', agents: synced });
  }
}

/** GET on an HTTP/2 session; `onLine` gets each line of the body; resolves at its end. */
function get(session: ClientHttp2Session, path: string, onData: (chunk: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ [constants.HTTP2_HEADER_PATH]: path, accept: 'application/json' });
    let status = 0;
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[constants.HTTP2_HEADER_STATUS])));
    req.on('data', onData);
    req.on('end', () => resolve(status));
    req.on('error', reject);
    closers.push(() => req.close());
  });
}

async function directAgent(sources: readonly kdd.KubeSource[]): Promise<void> {
  const session = connect(config.server as string, {
    ca: readFileSync(config.caFile as string),
    cert: readFileSync(config.certFile as string),
    key: readFileSync(config.keyFile as string),
  });
  session.on('error', () => undefined);
  closers.push(() => session.close());
  await Promise.all(
    sources.map(async (source) => {
      let body = '';
      const status = await get(session, source.path(), (c) => (body += c));
      if (status !== 200) throw new Error(`list ${source.path()}: HTTP ${status}`);
      const rv = (JSON.parse(body) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '0';
      let partial = '';
      void get(session, `${source.path()}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}&timeoutSeconds=3600`, (c) => {
        const lines = (partial + c).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line !== '' && !line.startsWith('{"type":"BOOKMARK"')) events++;
      }).catch(() => undefined);
    }),
  );
  markSynced();
}

function typhaAgent(i: number): void {
  const c = new SyncClient({
    syncer: 'felix',
    node: `bench-agent-${process.pid}-${i}`,
    discovery: staticDiscovery(config.typhaAddrs as string),
    callbacks: {
      onStatus(s) {
        if (s === 'in-sync' && !counted) {
          counted = true;
          markSynced();
        }
      },
      onUpdates(u) {
        events += u.length;
      },
    },
  });
  let counted = false;
  closers.push(() => void c.close());
  c.start();
}

async function main(): Promise<void> {
  process.on('SIGTERM', () => {
    for (const close of closers) close();
    process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
  setInterval(() => send({ type: 'events', events }), 1000).unref();
  if (config.mode === 'direct') {
    const sources = kdd.sourcesForKinds(syncerKinds('felix'));
    // Connect in small groups: a thousand TLS handshakes at once is a storm of our own making.
    for (let i = 0; i < config.count; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, config.count - i) }, () => directAgent(sources)));
    }
  } else {
    for (let i = 0; i < config.count; i++) typhaAgent(i);
  }
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
