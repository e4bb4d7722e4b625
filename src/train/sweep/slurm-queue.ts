/**
 * Talking to Slurm through its client commands (`sbatch`, `squeue`, `sacct`), which read the
 * cluster from the usual places (`SLURM_CONF`, /etc/slurm): what a user's shell on a login node
 * would run.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../../core/errors';

/** How long one Slurm command may take before the sweep gives up on it (a busy controller answers within seconds). */
const COMMAND_TIMEOUT_MS = 60_000;

/** One array task as Slurm reports it. */
export interface TaskState {
  /** Array task ID (the sweep point's index). */
  index: number;
  /** Slurm's job state, e.g. PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, TIMEOUT. */
  state: string;
  /** Why a pending task waits (Resources, Priority, JobArrayTaskLimit, ...); 'None' otherwise. */
  reason: string;
  /** The node it runs on, when it runs. */
  node: string;
}

/**
 * States in which a task is over: its processes are gone (COMPLETING, while Slurm is still
 * stopping them, is not one of them). Anything else is queued or running.
 */
const ENDED_STATES = new Set(['BOOT_FAIL', 'CANCELLED', 'COMPLETED', 'DEADLINE', 'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'REVOKED', 'TIMEOUT', 'UNKNOWN']);

/** True while a task is queued, running or being stopped. */
export function isActive(state: string): boolean {
  return !ENDED_STATES.has(state);
}

/** Whether a command is on PATH (the Slurm clients are absent off the cluster). */
export function onPath(command: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Refuse early, with the fix, when the Slurm clients are not installed here. */
export function requireSlurm(): void {
  const missing = ['sbatch', 'squeue'].filter((c) => !onPath(c));
  if (missing.length > 0) {
    throw new AekitError('EXECUTOR_FAILED', `${missing.join(' and ')} not found on PATH: run \`aekit sweep --executor slurm\` on a machine that submits Slurm jobs (a login node), or use --executor local`);
  }
}

/** Run a Slurm client; resolves with its output, rejects naming the command and what it printed. */
function slurm(command: string, args: readonly string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { killed?: boolean }) | null;
      if (failure?.code === 'ENOENT') return reject(new AekitError('EXECUTOR_FAILED', `${command} not found on PATH`));
      if (failure?.killed) return reject(new AekitError('EXECUTOR_FAILED', `${command} ${args.join(' ')} did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`));
      resolve({ code: failure ? (typeof failure.code === 'number' ? failure.code : 1) : 0, stdout, stderr });
    });
  });
}

/** What a failed Slurm command said, in one line. */
function said(result: { stdout: string; stderr: string }): string {
  return (result.stderr.trim() || result.stdout.trim() || 'no output').split('\n').map((l) => l.trim()).join(' / ');
}

/** Submit a job script with `sbatch` from `cwd`; resolves with the job ID. */
export async function submit(scriptFile: string, cwd: string): Promise<string> {
  const result = await slurm('sbatch', ['--parsable', scriptFile], cwd);
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const jobId = /^(\d+)/.exec(result.stdout.trim())?.[1];
  if (result.code !== 0 || !jobId) throw new AekitError('EXECUTOR_FAILED', `sbatch refused the job: ${said(result)}`, { where: scriptFile });
  return jobId;
}

/** Parse `index|state|reason|node` lines (squeue and sacct are asked for these columns). */
function parseTasks(text: string, jobId: string): Map<number, TaskState> {
  const tasks = new Map<number, TaskState>();
  for (const line of text.split('\n')) {
    const [id, state, reason = 'None', node = ''] = line.trim().split('|');
    // sacct names tasks <job>_<index>; squeue's %K gives the index alone.
    const index = Number(id?.startsWith(`${jobId}_`) ? id.slice(jobId.length + 1) : id);
    // sacct writes "CANCELLED by 0": the state is the first word.
    if (id && Number.isInteger(index) && state) tasks.set(index, { index, state: state.split(' ')[0], reason, node });
  }
  return tasks;
}

/**
 * The array's tasks that the controller still knows: queued, running, and those ended within its
 * MinJobAge (5 minutes by default). Empty once the whole job has left the controller.
 */
export async function queueStates(jobId: string): Promise<Map<number, TaskState>> {
  const result = await slurm('squeue', ['--noheader', '--array', '--states=all', `--jobs=${jobId}`, '--format=%K|%T|%r|%N']);
  if (result.code !== 0) {
    // A job that has left the controller's memory altogether is "invalid" to squeue.
    if (/Invalid job id/i.test(result.stderr)) return new Map();
    throw new AekitError('EXECUTOR_FAILED', `squeue failed: ${said(result)}`);
  }
  return parseTasks(result.stdout, jobId);
}

/**
 * The array's tasks from Slurm's accounting (`sacct`), which remembers them after the controller
 * has forgotten; undefined when the cluster keeps no accounting or sacct is missing.
 */
export async function accountingStates(jobId: string): Promise<Map<number, TaskState> | undefined> {
  if (!onPath('sacct')) return undefined;
  const result = await slurm('sacct', ['--noheader', '--parsable2', '--allocations', `--jobs=${jobId}`, '--format=JobID,State,Reason,NodeList']);
  if (result.code !== 0) return undefined;
  return parseTasks(result.stdout, jobId);
}
