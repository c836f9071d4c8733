/**
 * The test servers' last line of defence: a crashed or interrupted test run must leave no
 * server process and no temp dir behind. Every fixture that spawns a server (etcd,
 * kube-apiserver) registers its child and its temp dir here; an 'exit' hook SIGKILLs the
 * children still alive and removes the dirs, and SIGINT/SIGTERM hooks do the same before
 * letting the signal take its default course. Only our own children are ever signalled.
 *
 * The normal path does not come here: each fixture's stop() ends its own child by pid, waits
 * for it, and removes its dir, then calls `forgetDir`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

/** SIGKILLs `child` if the test process exits (or is interrupted) while it still runs. */
export function reapOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  const forget = (): void => void liveChildren.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  installExitHooks();
}

/** Removes `dir` if the test process exits before the fixture's stop() did. */
export function removeOnExit(dir: string): void {
  liveDirs.add(dir);
  installExitHooks();
}

/** The fixture removed `dir` itself. */
export function forgetDir(dir: string): void {
  liveDirs.delete(dir);
}

/** The last `bytes` of a server's log file, for a start error's message. */
export function logTail(file: string, bytes = 4000): string {
  try {
    return readFileSync(file, 'utf8').slice(-bytes);
  } catch {
    return '(no log)';
  }
}

function killAllSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // the server may still be dying and writing; a leftover temp dir is harmless
    }
  }
  liveDirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllSync();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  // Only when nobody else handles these: our handler must not swallow the caller's own.
  if (process.listenerCount('SIGINT') === 0) process.on('SIGINT', onSignal);
  if (process.listenerCount('SIGTERM') === 0) process.on('SIGTERM', onSignal);
}

/** A spawned test server: its process, a promise of its end, and why it ended (once it has). */
export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** `code N`, `signal S` or `spawn error …` once the process has ended; undefined while it runs. */
  exitInfo(): string | undefined;
}

/** Spawns `binary` with stdout and stderr appended to `logFile`, reaped if the test run exits. */
export function spawnServer(binary: string, args: readonly string[], logFile: string): SpawnedServer {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  reapOnExit(child);
  let info: string | undefined;
  const exited = new Promise<void>((resolve) => {
    const done = (why: string): void => {
      info ??= why;
      resolve();
    };
    child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `code ${code}`));
    child.once('error', (err) => done(`spawn error ${err.message}`));
  });
  return { child, exited, exitInfo: () => info };
}
