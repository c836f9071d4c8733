/** Loopback ports and HTTP on them: the lab's processes are found by port. */
export { freePort } from '@cattail/datastore/testing';

/** GET http://127.0.0.1:<port><path>; undefined when nothing answers. */
export async function httpGet(port: number, path: string, timeoutMs = 2_000): Promise<{ status: number; body: string } | undefined> {
  if (!port) return undefined;
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

export async function httpJson<T>(port: number, path: string): Promise<T | undefined> {
  const r = await httpGet(port, path);
  if (r === undefined || r.status !== 200) return undefined;
  try {
    return JSON.parse(r.body) as T;
  } catch {
    return undefined;
  }
}
