/**
 * run.json: the environment of a run (aekit version, backend, engine) and its status. A trainer
 * writes `running` with its process id and host when it starts and the outcome when it stops;
 * a process killed outright (SIGKILL, the OOM killer, a power cut) writes nothing, so a `running`
 * run whose process is gone is reported as `killed` by whoever looks next.
 */
import { hostname } from 'node:os';
import { promises as fs } from 'node:fs';
import { AekitError } from '../core/errors';
import type { RunFolder } from './run-folder';

/** What run.json says a run is doing, or how it ended. */
export type RunStatus = 'running' | 'finished' | 'interrupted' | 'failed' | 'killed';

/** The fields of run.json this module reads (the trainer writes more: version, backend, engine). */
export interface RunInfo {
  status: RunStatus;
  /** The trainer's process id and host, while `running`. */
  pid?: number;
  host?: string;
  startedAt?: string;
  finishedAt?: string;
  error?: { code?: string; message: string };
  [field: string]: unknown;
}

/** Whether the process `pid` of this host exists (another user's process counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where a `running` run's trainer is: `alive` (a process of this host other than this one),
 * `dead` (gone, or this very process, which has only just started), or `elsewhere` (another host,
 * which this one cannot look into).
 */
export function trainerProcess(info: RunInfo): 'alive' | 'dead' | 'elsewhere' {
  if (info.host !== undefined && info.host !== hostname()) return 'elsewhere';
  if (typeof info.pid !== 'number' || info.pid === process.pid) return 'dead';
  return processAlive(info.pid) ? 'alive' : 'dead';
}

/** run.json, or undefined when it is missing or unreadable (a run that never got that far). */
export async function readRunInfo(folder: RunFolder): Promise<RunInfo | undefined> {
  try {
    const info = JSON.parse(await fs.readFile(folder.runInfoPath, 'utf8')) as RunInfo;
    return typeof info === 'object' && info !== null ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * run.json as it stands, with a `running` run whose process is gone reported as `killed`
 * (the file itself is left as it is). Undefined when there is none.
 */
export async function currentRunInfo(folder: RunFolder): Promise<RunInfo | undefined> {
  const info = await readRunInfo(folder);
  if (info?.status === 'running' && trainerProcess(info) === 'dead') return { ...info, status: 'killed' };
  return info;
}

/** The fields run.json starts with that say who is training: this process on this host. */
export function trainerIdentity(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

/** One line on a run's status for messages: `killed (process 123 on node7 is gone)`. */
export function describeRunStatus(info: RunInfo): string {
  const where = info.pid !== undefined ? `process ${info.pid}${info.host ? ` on ${info.host}` : ''}` : 'its trainer';
  switch (info.status) {
    case 'killed':
      return `killed: ${where} stopped without recording why (SIGKILL, out of memory or a power cut)`;
    case 'running':
      return `running (${where})`;
    case 'failed':
      return `failed${info.error ? `: ${info.error.message}` : ''}`;
    default:
      return info.status;
  }
}

/**
 * Refuse to write into a run another live process of this host is training; warn about one that
 * says it runs on another host (which cannot be checked from here, so it is taken as gone).
 * Returns the run's previous run.json, `killed` where its trainer is gone.
 * @throws AekitError ALREADY_EXISTS naming the process.
 */
export async function claimRun(folder: RunFolder, warn: (message: string) => void): Promise<RunInfo | undefined> {
  const info = await readRunInfo(folder);
  if (info?.status !== 'running') return info;
  const trainer = trainerProcess(info);
  if (trainer === 'alive') {
    throw new AekitError('ALREADY_EXISTS', `this run is being trained by process ${info.pid} on this host (since ${info.startedAt ?? 'an unknown time'}); stop it (it checkpoints on SIGTERM) or wait for it to finish`, {
      where: folder.dir,
    });
  }
  if (trainer === 'elsewhere') {
    warn(`${folder.runInfoPath} says process ${info.pid ?? '?'} on ${info.host} is training this run; this host cannot check, so it is taken as stopped (if it still runs, the two will overwrite each other's checkpoints)`);
  }
  return { ...info, status: 'killed' };
}

/** Set run.json's final status (and what else is given), with the time. */
export async function finishRunInfo(folder: RunFolder, fields: Partial<RunInfo>): Promise<void> {
  const info = (await readRunInfo(folder)) ?? {};
  await folder.writeJson(folder.runInfoPath, { ...info, finishedAt: new Date().toISOString(), ...fields });
}

/** An error as run.json records it. */
export function describeError(error: unknown): { code?: string; message: string } {
  if (error instanceof AekitError) return { code: error.code, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}
