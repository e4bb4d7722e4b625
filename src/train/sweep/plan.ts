/**
 * What a sweep does with each run folder, decided the same way whichever executor trains it:
 * train anew, resume, restart or skip (rerun semantics), and what the folder says afterwards.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../../core/errors';
import type { TrainerState } from '../../run/checkpoint';
import type { RunConfig } from '../../run/config';
import { newestCheckpoint } from '../../run/checkpoint';
import { RunFolder } from '../../run/run-folder';
import { currentRunInfo } from '../../run/run-info';
import type { EpochRecord } from '../../run/run-folder';
import type { SweepPoint } from './grid';
import type { SweepAction, SweepRunResult, SweepRunStatus } from './report';

/** How the plan is logged. */
export const PLAN_WORDS: Record<SweepAction, string> = { new: 'new', resumed: 'to resume', restarted: 'to restart', skipped: 'to skip' };

/** A planned run: what to do with its folder. */
export interface Plan {
  point: SweepPoint;
  action: SweepAction;
  runDir: string;
  /** Why a skipped run is not trained again. */
  reason?: TrainerState['reason'];
}

/** What an executor learned about a run besides what its folder holds. */
export interface RunOutcome {
  /** Exit code of `aekit train`, when the executor saw it. */
  exitCode?: number;
  /** Not trained this time (dry run, abort, `--collect` of a run never started). */
  notRun?: boolean;
  /** Still queued or training on the cluster when the sweep stopped looking. */
  active?: 'pending' | 'running';
  /** The cluster's side: the Slurm task and its final state, e.g. `12_3` TIMEOUT. */
  slurm?: { task: string; state: string };
}

/** A run's result plus its epochs (for the curves chart). */
export type CollectedRun = SweepRunResult & { epochRecords: EpochRecord[] };

/** Parse a JSON file; undefined when it is missing or not JSON (a run folder being written). */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Dotted paths where two JSON values differ. */
function differences(a: unknown, b: unknown, prefix = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)'];
}

/** The trainer state of a run's newest complete checkpoint, if it has one. */
export async function latestCheckpoint(runDir: string): Promise<TrainerState | undefined> {
  return (await newestCheckpoint(runDir))?.trainer;
}

/**
 * Where a run stands: its newest checkpoint's reason, with run.json's word over it. A run stopped
 * by the divergence guard in validation counts as `last-good` (a rerun would only diverge again);
 * a final checkpoint whose validation then failed is not a finished run.
 */
async function runStanding(folder: RunFolder): Promise<{ reason?: TrainerState['reason']; failed: boolean }> {
  const reason = (await latestCheckpoint(folder.dir))?.reason;
  const info = await currentRunInfo(folder);
  if (reason && info?.error?.code === 'NON_FINITE_LOSS') return { reason: 'last-good', failed: true };
  return { reason, failed: info?.status === 'failed' || info?.status === 'killed' };
}

/**
 * Decide what to do with a point's run folder: train it anew, resume it (interrupted, or asked
 * for more epochs), restart it (started but no checkpoint yet), or skip it (finished, or stopped
 * by the NaN guard, which a rerun would only hit again). A folder trained with a different config
 * is refused.
 */
export async function planRun(point: SweepPoint): Promise<Plan> {
  const runDir = path.join(point.config.outDir, point.config.name);
  const folder = new RunFolder(runDir);
  const stored = await readJsonIfExists<RunConfig>(folder.configPath);
  if (!stored) return { point, action: 'new', runDir };
  // Compare as JSON (what config.json holds); the folder location may be spelled differently.
  const wanted = JSON.parse(JSON.stringify(point.config)) as RunConfig;
  const changed = differences({ ...stored, outDir: '', train: { ...stored.train, epochs: 0 } }, { ...wanted, outDir: '', train: { ...wanted.train, epochs: 0 } });
  if (changed.length > 0) {
    throw new AekitError('BAD_CONFIG', `this run was trained with a different config (${changed.join(', ')}); remove the folder or give the sweep a new name`, { where: runDir });
  }
  if (stored.train.epochs > wanted.train.epochs) {
    throw new AekitError('BAD_CONFIG', `this run has ${stored.train.epochs} epochs, the sweep asks for ${wanted.train.epochs}; remove the folder or give the sweep a new name`, { where: runDir });
  }
  const { reason, failed } = await runStanding(folder);
  if (!reason) return { point, action: 'restarted', runDir };
  if (reason === 'last-good') return { point, action: 'skipped', runDir, reason };
  if (reason === 'final' && !failed && stored.train.epochs === wanted.train.epochs) return { point, action: 'skipped', runDir, reason };
  return { point, action: 'resumed', runDir, reason };
}

/** Arguments of `aekit train` for a plan (never called for skipped runs). */
export function trainArgs(plan: Plan, configFile: string): string[] {
  if (plan.action === 'resumed') return ['train', '--resume', plan.runDir, '--epochs', String(plan.point.config.train.epochs)];
  return ['train', '--config', configFile, ...(plan.action === 'restarted' ? ['--overwrite'] : [])];
}

/** The last `aekit: ...` line of a log (the CLI prints errors that way), else its last line. */
async function errorLine(log: string): Promise<string> {
  const text = await fs.readFile(log, 'utf8').catch(() => '');
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return [...lines].reverse().find((l) => l.startsWith('aekit: '))?.slice('aekit: '.length) ?? lines[lines.length - 1] ?? 'no output';
}

/**
 * Slurm states that say why a task ended, worth naming before a failed run's error line (FAILED,
 * a non-zero exit, says nothing the status does not).
 */
const TELLING_SLURM_STATES = new Set(['BOOT_FAIL', 'CANCELLED', 'DEADLINE', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'TIMEOUT']);

/** Read what a run folder holds now: status, last epoch, time. */
export async function collectRun(plan: Plan, log: string, outcome: RunOutcome = {}): Promise<CollectedRun> {
  const folder = new RunFolder(plan.runDir);
  const epochRecords = (await folder.readMetrics()).filter((r): r is EpochRecord => r.kind === 'epoch');
  const last = epochRecords[epochRecords.length - 1];
  const { reason, failed } = await runStanding(folder);
  let status: SweepRunStatus;
  if (outcome.active) status = outcome.active;
  else if (outcome.notRun) status = 'pending';
  else if (reason === 'final' && !failed && (outcome.exitCode === undefined || outcome.exitCode === 0)) status = 'finished';
  else if (reason === 'last-good') status = 'diverged';
  else if (reason === 'interrupted') status = 'interrupted';
  else status = 'failed';
  let error = status === 'diverged' || status === 'failed' ? await errorLine(log) : undefined;
  if (error !== undefined && outcome.slurm && TELLING_SLURM_STATES.has(outcome.slurm.state)) error = `Slurm ${outcome.slurm.state}: ${error}`;
  return {
    name: plan.point.name,
    variant: plan.point.variant,
    values: plan.point.values,
    action: plan.action,
    status,
    runDir: plan.runDir,
    log,
    epochs: last?.epoch ?? 0,
    seconds: epochRecords.reduce((s, r) => s + r.seconds, 0),
    train: last?.train ?? {},
    validation: last?.validation ?? {},
    error,
    ...(outcome.slurm ? { slurm: outcome.slurm } : {}),
    epochRecords,
  };
}
