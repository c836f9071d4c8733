/**
 * A raw msgpack client for tests that look at the protocol itself: it says hello (optionally
 * resuming), collects every message and the bytes they took until InSync, and leaves the socket
 * open (the caller closes `ws`). The reference client hides the hello's mode and the bytes.
 */
import WebSocket from 'ws';
import { msgpackCodec, SUBPROTOCOL_MSGPACK, type ServerMessage, type SyncerType } from '../protocol/index.js';

export interface RawSyncResult {
  ws: WebSocket;
  bytes: number;
  messages: ServerMessage[];
  hello: Extract<ServerMessage, { type: 'hello' }>;
  /** The revision of the InSync that ended the sync. */
  revision: number;
}

export async function rawSync(port: number, resume?: { revision: number; datastoreId: string }, syncer: SyncerType = 'felix'): Promise<RawSyncResult> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/sync`, [SUBPROTOCOL_MSGPACK]);
  let bytes = 0;
  const messages: ServerMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('the server closed the connection before InSync')));
    ws.once('open', () => {
      ws.send(msgpackCodec.encode({ type: 'hello', protocolVersion: 1, syncer, node: 'raw', features: ['resume'], ...(resume ? { resume } : {}) }));
    });
    ws.on('message', (data: Buffer) => {
      bytes += data.length;
      const m = msgpackCodec.decode(data) as ServerMessage;
      messages.push(m);
      if (m.type === 'in-sync') resolve();
    });
  });
  const hello = messages[0] as Extract<ServerMessage, { type: 'hello' }>;
  const inSync = messages[messages.length - 1] as Extract<ServerMessage, { type: 'in-sync' }>;
  return { ws, bytes, messages, hello, revision: inSync.revision };
}
