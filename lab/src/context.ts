/**
 * What every lab step works on: the names, the state dir and its state (saved after each step),
 * and where the programs are. Steps are plain functions of a LabContext.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { LabNames } from './names.js';
import { writeState, type LabState } from './state.js';

/** `cattail` as built in this workspace (the lab runs `cattail typha|felix|confd`). */
export const DEFAULT_CATTAIL_BIN = fileURLToPath(new URL('../../../cli/bin/cattail.js', import.meta.url));
/** The CNI plugin executable. */
export const DEFAULT_CNI_BIN = fileURLToPath(new URL('../../../cni/bin/cattail-cni.js', import.meta.url));

export interface LabLogger {
  info(msg: string): void;
}

export const silentLogger: LabLogger = { info() {} };

export interface LabContext {
  readonly names: LabNames;
  readonly dir: string;
  readonly state: LabState;
  readonly cattailBin: string;
  readonly cniBin: string;
  readonly log: LabLogger;
}

export function save(ctx: LabContext): void {
  writeState(ctx.dir, ctx.state);
}

export function logsDir(ctx: LabContext): string {
  return join(ctx.dir, 'logs');
}

/** Log level of the lab's Typha, Felix and confd: CATTAIL_LAB_LOGSEVERITY (Debug, Info, …), default Info. */
export function logSeverity(): string {
  return process.env.CATTAIL_LAB_LOGSEVERITY || 'Info';
}
