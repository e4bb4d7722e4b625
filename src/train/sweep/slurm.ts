/**
 * The Slurm executor: the runs a sweep still has to train go to Slurm as one job array (one task
 * per configuration, see ./slurm-script.ts); the sweep follows it with `squeue` (and `sacct` for
 * tasks the controller has forgotten), logging progress, and reads each run folder as its task
 * ends. Submissions are recorded in `<sweep>/slurm/jobs.json`, so a rerun while the job still
 * runs follows it instead of submitting the same runs twice.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write';
import { AekitError } from '../../core/errors';
import type { StepRecord, EpochRecord } from '../../run/run-folder';
import type { ExecutionContext } from './execution';
import { endLine } from './local';
import { collectRun, readJsonIfExists } from './plan';
import type { CollectedRun, Plan } from './plan';
import type { SweepAction, SweepSlurmJob } from './report';
import { checkSlurmResources, slurmJobScript } from './slurm-script';
import type { SlurmResources } from './slurm-script';
import { accountingStates, isActive, onPath, queueStates, requireSlurm, submit } from './slurm-queue';
import type { TaskState } from './slurm-queue';

export type { SlurmResources } from './slurm-script';

/** Options of the Slurm executor. */
export interface SlurmOptions extends SlurmResources {
  /** Seconds between two `squeue` calls while following (default {@link DEFAULT_POLL_SECONDS}). */
  pollSeconds?: number;
  /** Submit and return without following; rerun the sweep to follow, or collect later. */
  detach?: boolean;
}

/**
 * Seconds between two `squeue` calls. Slurm's documentation asks scripts not to poll the
 * controller in tight loops; progress every 10 s is plenty for runs that take minutes.
 */
export const DEFAULT_POLL_SECONDS = 10;

/** A progress line even when nothing changed, this often (so a quiet log still shows the follower is alive). */
const HEARTBEAT_MS = 60_000;

/** squeue failures in a row before the follower gives up (a controller restart takes a few polls). */
const MAX_QUEUE_FAILURES = 30;

/** Running tasks named with their epoch in a progress line; beyond this only counted. */
const PROGRESS_NAMES = 4;

/** One submitted array, as recorded in `<sweep>/slurm/jobs.json`. */
export interface SlurmSubmission {
  jobId: string;
  submittedAt: string;
  scriptFile: string;
  tasks: { index: number; name: string; action: SweepAction }[];
}

function jobsFile(dir: string): string {
  return path.join(dir, 'slurm', 'jobs.json');
}

/** The latest array submitted for this sweep folder, if any. */
export async function lastSubmission(dir: string): Promise<SlurmSubmission | undefined> {
  const record = await readJsonIfExists<{ submissions?: SlurmSubmission[] }>(jobsFile(dir));
  return record?.submissions?.[record.submissions.length - 1];
}

async function recordSubmission(dir: string, submission: SlurmSubmission): Promise<void> {
  const record = (await readJsonIfExists<{ submissions?: SlurmSubmission[] }>(jobsFile(dir))) ?? {};
  const submissions = [...(record.submissions ?? []), submission];
  await writeFileAtomic(jobsFile(dir), JSON.stringify({ submissions }, null, 2) + '\n', { force: true });
}

/** The sweep's latest submission while it still has tasks queued or running. */
export interface LiveJob {
  submission: SlurmSubmission;
  /** Its tasks still queued or running, by index. */
  active: Map<number, TaskState>;
}

/**
 * The sweep's Slurm job if it still runs; undefined when it never had one, all its tasks have
 * ended, or this machine has no `squeue` to ask.
 */
export async function liveJob(dir: string): Promise<LiveJob | undefined> {
  const submission = onPath('squeue') ? await lastSubmission(dir) : undefined;
  if (!submission) return undefined;
  const states = await queueStates(submission.jobId);
  const active = new Map([...states].filter(([index, s]) => isActive(s.state) && submission.tasks.some((t) => t.index === index)));
  return active.size > 0 ? { submission, active } : undefined;
}

/** What the job script needs to know about the sweep. */
type ScriptContext = Pick<ExecutionContext, 'name' | 'dir' | 'command'>;

/** The job script training `plans`; `all` are every point's plans (a task's ID is its point's index). */
function jobScript(plans: readonly Plan[], all: readonly Plan[], ctx: ScriptContext, options: SlurmResources, maxRunning?: number): string {
  return slurmJobScript({
    sweepName: ctx.name,
    dir: path.resolve(ctx.dir),
    cwd: process.cwd(),
    command: ctx.command,
    names: all.map((p) => p.point.name),
    epochs: all.map((p) => p.point.config.train.epochs),
    tasks: plans.map((p) => all.indexOf(p)),
    maxRunning,
    resources: checkSlurmResources(options),
  });
}

/** The job script a dry run shows (nothing written, nothing submitted). */
export function dryRunScript(plans: readonly Plan[], ctx: ScriptContext, options: SlurmResources, maxRunning?: number): string | undefined {
  const toTrain = plans.filter((p) => p.action !== 'skipped');
  return toTrain.length > 0 ? jobScript(toTrain, plans, ctx, options, maxRunning) : undefined;
}

/** "1m05s" */
function elapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * The epoch (from 1) a run is training, from the tail of its metrics.jsonl (a long run's file is
 * large); 1 before its first record.
 */
async function trainingEpoch(runDir: string, epochs: number): Promise<number> {
  try {
    const handle = await fs.open(path.join(runDir, 'metrics.jsonl'), 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 8192);
      const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
      const lines = buffer.toString('utf8').split('\n').filter((l) => l.startsWith('{') && l.endsWith('}'));
      const last = lines.length > 0 ? (JSON.parse(lines[lines.length - 1]) as StepRecord | EpochRecord) : undefined;
      // Step records count epochs from 0, epoch records from 1 (the epoch just done).
      return last === undefined ? 1 : last.kind === 'step' ? last.epoch + 1 : Math.min(last.epoch + 1, epochs);
    } finally {
      await handle.close();
    }
  } catch {
    return 1;
  }
}

/** Wait `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A followed task. */
interface Followed {
  index: number;
  plan: Plan;
  state?: TaskState;
  /** Polls in a row that did not find it (neither squeue nor sacct). */
  missing: number;
  result?: CollectedRun;
}

/**
 * Follow a job's tasks until each has ended, logging each start and end and a progress line when
 * something changed (or every minute). On abort it stops following and leaves the job running.
 */
async function follow(jobId: string, followed: Followed[], ctx: ExecutionContext, pollMs: number): Promise<void> {
  const started = Date.now();
  let lastLine = '';
  let lastLineAt = 0;
  let failures = 0;
  for (;;) {
    let states: Map<number, TaskState>;
    try {
      states = await queueStates(jobId);
      failures = 0;
    } catch (error) {
      if (++failures >= MAX_QUEUE_FAILURES) throw error;
      ctx.logger.warn(`${(error as Error).message}; asking again in ${pollMs / 1000} s`);
      await pause(pollMs, ctx.signal);
      if (ctx.signal?.aborted) return;
      continue;
    }
    const open = followed.filter((t) => !t.result);
    if (open.some((t) => !states.has(t.index))) {
      // Tasks ended long enough ago for the controller to forget them: ask the accounting.
      const accounted = await accountingStates(jobId);
      for (const [index, state] of accounted ?? []) if (!states.has(index)) states.set(index, state);
    }
    for (const task of open) {
      const state = states.get(task.index);
      // Not found twice in a row, by squeue nor sacct: long over (Slurm's record is gone), and its run folder tells how.
      task.missing = state ? 0 : task.missing + 1;
      const now = state ?? (task.missing >= 2 ? { index: task.index, state: 'UNKNOWN', reason: 'None', node: '' } : undefined);
      if (!now) continue;
      const taskId = `${jobId}_${task.index}`;
      if (now.state === 'RUNNING' && task.state?.state !== 'RUNNING') ctx.logger.info(`running ${task.plan.point.name} (task ${taskId} on ${now.node || 'a node'})`);
      task.state = now;
      if (isActive(now.state)) continue;
      task.result = await collectRun(task.plan, ctx.logFor(task.plan.point.name), { slurm: { task: taskId, state: now.state } });
      const told = now.state === 'COMPLETED' || now.state === 'UNKNOWN' || task.result.error?.startsWith(`Slurm ${now.state}`);
      const how = told ? '' : ` (Slurm ${now.state})`;
      const next = task.result.status === 'interrupted' ? '; rerun the sweep to resume it' : '';
      ctx.logger.info(endLine(task.result, how) + next);
    }
    const line = await progressLine(jobId, followed);
    const remaining = followed.filter((t) => !t.result).length;
    if (line !== lastLine || Date.now() - lastLineAt >= HEARTBEAT_MS || remaining === 0) {
      ctx.logger.info(`job ${jobId} [${elapsed(Date.now() - started)}]: ${line}`);
      lastLine = line;
      lastLineAt = Date.now();
    }
    if (remaining === 0 || ctx.signal?.aborted) return;
    await pause(pollMs, ctx.signal);
    if (ctx.signal?.aborted) return;
  }
}

/** "2 finished, 1 running (a: epoch 2/3), 1 pending (Resources)" */
async function progressLine(jobId: string, followed: readonly Followed[]): Promise<string> {
  const counts = new Map<string, number>();
  for (const t of followed.filter((f) => f.result)) counts.set(t.result!.status, (counts.get(t.result!.status) ?? 0) + 1);
  const parts = [...counts].map(([status, n]) => `${n} ${status}`);
  const running = followed.filter((t) => !t.result && t.state?.state === 'RUNNING');
  if (running.length > 0) {
    const epochs = await Promise.all(running.slice(0, PROGRESS_NAMES).map(async (t) => `${t.plan.point.name}: epoch ${await trainingEpoch(t.plan.runDir, t.plan.point.config.train.epochs)}/${t.plan.point.config.train.epochs}`));
    parts.push(`${running.length} running (${epochs.join(', ')}${running.length > PROGRESS_NAMES ? ', ...' : ''})`);
  }
  const waiting = followed.filter((t) => !t.result && t.state?.state !== 'RUNNING');
  if (waiting.length > 0) {
    const why = [...new Set(waiting.map((t) => (t.state?.state === 'PENDING' ? t.state.reason : t.state?.state ?? 'submitted')).filter((r) => r !== 'None'))];
    parts.push(`${waiting.length} queued${why.length > 0 ? ` (${why.join(', ')})` : ''}`);
  }
  return parts.join(', ') || `nothing to follow in job ${jobId}`;
}

/**
 * Train the plans on Slurm: follow the sweep's earlier job if it still runs (`live`), else submit
 * the runs that are not finished as a new array; then follow it (unless detached) and read every
 * run folder. Resolves with one result per plan and the job.
 */
export async function runSlurm(plans: readonly Plan[], ctx: ExecutionContext, options: SlurmOptions, maxRunning?: number, live?: LiveJob): Promise<{ results: Map<string, CollectedRun>; job?: SweepSlurmJob }> {
  requireSlurm();
  const resources = checkSlurmResources(options);
  const pollMs = (options.pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
  if (!(pollMs > 0)) throw new AekitError('BAD_ARGUMENT', `pollSeconds must be above 0, got ${options.pollSeconds}`);
  const byName = new Map(plans.map((p) => [p.point.name, p]));
  const results = new Map<string, CollectedRun>();

  let followed: Followed[];
  let job: SweepSlurmJob | undefined;
  if (live) {
    const { submission } = live;
    ctx.logger.info(`Slurm job ${submission.jobId} of this sweep still has ${live.active.size} task(s) queued or running: following it instead of submitting again (scancel ${submission.jobId} stops it)`);
    // All its tasks, so the ones that ended meanwhile are reported with how Slurm ended them.
    followed = submission.tasks.filter((t) => byName.has(t.name)).map((t) => ({ index: t.index, plan: { ...byName.get(t.name)!, action: t.action }, missing: 0 }));
    job = { jobId: submission.jobId, scriptFile: submission.scriptFile, active: 0, submitted: false };
  } else {
    const toTrain = plans.filter((p) => p.action !== 'skipped');
    for (const plan of plans.filter((p) => p.action === 'skipped')) {
      ctx.logger.info(`skip ${plan.point.name}: ${plan.reason === 'final' ? 'finished' : 'stopped by the NaN guard'} earlier`);
    }
    followed = toTrain.map((plan) => ({ index: plans.indexOf(plan), plan, missing: 0 }));
    if (toTrain.length > 0) {
      for (const plan of toTrain) await ctx.writeRunConfig(plan);
      const script = jobScript(toTrain, plans, ctx, resources, maxRunning);
      const slurmDir = path.resolve(ctx.dir, 'slurm');
      await fs.mkdir(slurmDir, { recursive: true });
      const count = (await fs.readdir(slurmDir)).filter((f) => f.endsWith('.sbatch')).length;
      const scriptFile = path.join(slurmDir, `array-${count + 1}.sbatch`);
      await writeFileAtomic(scriptFile, script, { force: true });
      const jobId = await submit(scriptFile, process.cwd());
      await recordSubmission(ctx.dir, { jobId, submittedAt: new Date().toISOString(), scriptFile, tasks: followed.map((t) => ({ index: t.index, name: t.plan.point.name, action: t.plan.action })) });
      ctx.logger.info(`submitted Slurm job ${jobId}: ${toTrain.length} task(s), script ${scriptFile}; task logs in ${path.join(ctx.dir, 'logs')}`);
      job = { jobId, scriptFile, script, active: 0, submitted: true };
    }
  }

  if (job?.jobId !== undefined && !options.detach) await follow(job.jobId, followed, ctx, pollMs);
  if (options.detach && live) {
    // Not followed: what squeue said at the start is all there is; ended tasks are read from their folders.
    for (const task of followed) task.state = live.active.get(task.index);
    followed = followed.filter((t) => t.state);
  }
  const left = followed.filter((t) => !t.result);
  if (job && left.length > 0) {
    job.active = left.length;
    ctx.logger.info(
      `${options.detach ? 'not following' : 'stopped following'}: Slurm job ${job.jobId} keeps running (${left.length} task(s) left); ` +
        `rerun the same command to follow it, add --collect for the table so far, or scancel ${job.jobId} to stop it`,
    );
  }
  for (const task of followed) {
    const log = ctx.logFor(task.plan.point.name);
    results.set(task.plan.point.name, task.result ?? (await collectRun(task.plan, log, { active: task.state?.state === 'RUNNING' ? 'running' : 'pending' })));
  }
  // Runs outside the followed tasks: skipped ones, or ones an earlier job left (read as they are).
  for (const plan of plans.filter((p) => !results.has(p.point.name))) {
    results.set(plan.point.name, await collectRun(plan, ctx.logFor(plan.point.name), { notRun: plan.action === 'new' }));
  }
  return { results, job };
}
