/**
 * `aekit sweep`'s library half: a grid of run configs (see ./grid.ts), each trained by the
 * `aekit train` CLI, all on one seeded train/validation/test split (80/10/10 by default).
 * Selection looks at validation metrics only; the selected configurations are then evaluated once
 * on the test split, which no run trained or validated on. Rerunning a sweep skips finished runs,
 * resumes interrupted ones and refuses run folders trained with a different config (./plan.ts).
 *
 * Two executors train the runs: `local` (child processes on this machine, ./local.ts) and `slurm`
 * (one job array on a cluster, followed until it ends, ./slurm.ts). Either way the run folders are
 * the record of what happened, so `collect` can rebuild the report from them at any time.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write';
import { AekitError, unknownName } from '../../core/errors';
import type { Logger } from '../../core/log';
import { silentLogger } from '../../core/log';
import { useBackend } from '../../core/tfjs-backend';
import { loadCheckpoint } from '../../run/checkpoint';
import type { RunConfig } from '../../run/config';
import { prepareData } from '../data';
import { evaluate, EVALUATION_BATCH_SIZE, primaryMetric } from '../epoch-report';
import { AEKIT_COMMAND, executionContext, runLogFile } from './execution';
import { resolveSweepConfig, sweepDir, sweepPoints } from './grid';
import type { SweepConfig } from './grid';
import { runLocal } from './local';
import { collectRun, PLAN_WORDS, planRun } from './plan';
import type { CollectedRun, Plan } from './plan';
import { sweepCurvesPng, sweepMarkdown, UNFINISHED_STATUSES } from './report';
import type { SweepAction, SweepResult, SweepRunResult, SweepSlurmJob } from './report';
import { dryRunScript, lastSubmission, liveJob, runSlurm } from './slurm';
import type { LiveJob, SlurmOptions } from './slurm';
import { onPath, requireSlurm } from './slurm-queue';
import { checkSlurmResources } from './slurm-script';

export { DEFAULT_SWEEP_SPLIT, loadSweepConfig, resolveSweepConfig, sweepConfigSchema, sweepDir, sweepPoints } from './grid';
export type { SweepConfig, SweepConfigInput, SweepPoint } from './grid';
export { formatMetric, sweepMarkdown, CURVES_MAX_RUNS, UNFINISHED_STATUSES } from './report';
export type { SweepAction, SweepResult, SweepRunResult, SweepRunStatus, SweepSlurmJob } from './report';
export { DEFAULT_POLL_SECONDS } from './slurm';
export type { SlurmOptions, SlurmResources, SlurmSubmission } from './slurm';

/** Where a sweep's runs are trained. */
export const SWEEP_EXECUTORS = ['local', 'slurm'] as const;
/** One of {@link SWEEP_EXECUTORS}. */
export type SweepExecutor = (typeof SWEEP_EXECUTORS)[number];

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** `local` (default): child processes here. `slurm`: one job array, submitted with sbatch and followed. */
  executor?: SweepExecutor;
  /**
   * Local: training processes at a time (default 1); each tfjs run already uses the cores its
   * backend can, so more jobs pay off only with more cores than one run keeps busy. Slurm: most
   * array tasks running at once (the array's `%N`; default: as many as the cluster gives).
   */
  jobs?: number;
  /** Resources and following of the Slurm executor. */
  slurm?: SlurmOptions;
  /** Only plan: report what each run would do (and show the Slurm job script), train nothing. */
  dryRun?: boolean;
  /**
   * Train nothing: build the table, curves and, once every run is finished, the test-split
   * evaluation from the run folders as they are (runs of a Slurm job still going show as pending
   * or running).
   */
  collect?: boolean;
  /** The command that trains one run, given `train ...` arguments; default: this package's CLI. */
  command?: readonly string[];
  logger?: Logger;
  /**
   * On abort, local runs get one SIGINT (they checkpoint and stop) and no new run starts; a Slurm
   * sweep stops following its job, which keeps running.
   */
  signal?: AbortSignal;
}

/** Evaluate a finished run on its config's test split (never seen in training or selection). */
async function evaluateOnTest(run: SweepRunResult, config: RunConfig): Promise<{ count: number; metrics: Record<string, number> }> {
  await useBackend(config.train.backend);
  const data = await prepareData(config);
  if (!data.test) throw new AekitError('BAD_CONFIG', 'the test split is empty; use a larger dataset or a larger test fraction', { where: run.runDir });
  const loaded = await loadCheckpoint(run.runDir);
  try {
    return { count: data.test.count, metrics: await evaluate(loaded.model, data.test, data.shape, config.train.seed, EVALUATION_BATCH_SIZE) };
  } finally {
    loaded.model.dispose();
  }
}

/** Read every run folder as it is (`collect`), marking the runs a live Slurm job still trains. */
async function collectAsIs(plans: readonly Plan[], dir: string, logger: Logger, live?: LiveJob): Promise<{ results: Map<string, CollectedRun>; job?: SweepSlurmJob }> {
  const submission = live?.submission ?? (onPath('squeue') ? await lastSubmission(dir) : undefined);
  const running = new Map(
    (live?.submission.tasks ?? []).filter((t) => live!.active.has(t.index)).map((t) => [t.name, live!.active.get(t.index)!.state === 'RUNNING' ? ('running' as const) : ('pending' as const)]),
  );
  if (live) logger.info(`Slurm job ${live.submission.jobId} still has ${live.active.size} task(s) queued or running: the table is provisional`);
  const results = new Map<string, CollectedRun>();
  for (const plan of plans) {
    const active = running.get(plan.point.name);
    results.set(plan.point.name, await collectRun(plan, runLogFile(dir, plan.point.name), active ? { active } : { notRun: plan.action === 'new' }));
  }
  return { results, job: submission ? { jobId: submission.jobId, scriptFile: submission.scriptFile, active: live?.active.size ?? 0, submitted: false } : undefined };
}

/**
 * Run a sweep (a parsed sweep file or an already resolved {@link SweepConfig}): train every
 * configuration that is not finished yet, write `sweep.json`, `sweep.md` and `sweep-curves.png`
 * into `<outDir>/<name>/`, and evaluate the selected configuration(s) on the test split.
 * Failed or diverged runs are reported in the table and excluded from selection; they do not stop
 * the other runs.
 */
export async function runSweep(input: SweepConfig | unknown, options: SweepOptions = {}): Promise<SweepResult> {
  const logger = options.logger ?? silentLogger;
  const config = await resolveSweepConfig(input);
  const points = sweepPoints(config);
  const dir = sweepDir(config);
  const executor = options.executor ?? 'local';
  if (!SWEEP_EXECUTORS.includes(executor)) throw unknownName('executor', executor, SWEEP_EXECUTORS);
  if (executor === 'slurm') {
    // Before anything is planned or logged: a bad flag or a machine without Slurm is the first thing to hear.
    checkSlurmResources(options.slurm ?? {});
    if (!options.dryRun && !options.collect) requireSlurm();
  }
  if (options.dryRun && options.collect) throw new AekitError('BAD_ARGUMENT', 'dry run and collect exclude each other: a dry run plans, collect reports');
  const jobs = options.jobs;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new AekitError('BAD_ARGUMENT', `jobs must be a whole number of at least 1, got ${jobs}`);
  const cores = os.availableParallelism();
  if (executor === 'local' && !options.collect && jobs !== undefined && jobs > cores) logger.warn(`${jobs} jobs on ${cores} cores: the runs will compete for the CPU; ${cores} or fewer is faster`);

  const plans = await Promise.all(points.map(planRun));
  // A Slurm job of this sweep that still runs: a Slurm sweep follows it, a local one must not train
  // the same runs, and collect marks its runs pending or running.
  const live = options.dryRun ? undefined : await liveJob(dir);
  const counts = plans.reduce<Record<string, number>>((c, p) => ({ ...c, [p.action]: (c[p.action] ?? 0) + 1 }), {});
  if (!options.collect) {
    // While a job trains them, what a new submission would do with each run is beside the point.
    const plan = live ? '' : ` (${Object.entries(counts).map(([a, n]) => `${n} ${PLAN_WORDS[a as SweepAction]}`).join(', ')})`;
    logger.info(`sweep ${config.name}: ${plans.length} configurations${plan}; folder ${dir}`);
  }

  let results: Map<string, CollectedRun>;
  let slurm: SweepSlurmJob | undefined;
  if (options.dryRun) {
    for (const plan of plans) logger.info(`  ${plan.point.name}: ${plan.action}${plan.reason ? ` (checkpoint: ${plan.reason})` : ''}`);
    results = new Map();
    for (const plan of plans) results.set(plan.point.name, await collectRun(plan, runLogFile(dir, plan.point.name), { notRun: plan.action !== 'skipped' }));
    if (executor === 'slurm') {
      const script = dryRunScript(plans, { name: config.name, dir, command: options.command ?? AEKIT_COMMAND }, options.slurm ?? {}, jobs);
      slurm = { script, active: 0, submitted: false };
    }
  } else if (options.collect) {
    if (!existsSync(dir)) throw new AekitError('FILE_NOT_FOUND', 'no sweep folder here, so nothing to collect; run the sweep first (or give the --out-dir and --name it ran with)', { where: dir });
    ({ results, job: slurm } = await collectAsIs(plans, dir, logger, live));
  } else {
    if (executor === 'local' && live) {
      const { jobId } = live.submission;
      throw new AekitError('BAD_ARGUMENT', `Slurm job ${jobId} is still training this sweep (${live.active.size} task(s) queued or running): follow it with --executor slurm, or scancel ${jobId} first`, { where: dir });
    }
    const ctx = await executionContext(dir, config.name, { logger, signal: options.signal, command: options.command });
    if (executor === 'slurm') ({ results, job: slurm } = await runSlurm(plans, ctx, options.slurm ?? {}, jobs, live));
    else results = await runLocal(plans, ctx, jobs ?? 1);
  }
  return finish(config, points, plans, results, slurm, options, logger);
}

/** Select on validation, evaluate the selection on the test split once every run is trained, write the report. */
async function finish(
  config: SweepConfig,
  points: ReturnType<typeof sweepPoints>,
  plans: readonly Plan[],
  results: Map<string, CollectedRun>,
  slurm: SweepSlurmJob | undefined,
  options: SweepOptions,
  logger: Logger,
): Promise<SweepResult> {
  const dir = sweepDir(config);
  const runs = plans.map((p) => results.get(p.point.name)!);
  const finished = runs.filter((r) => r.status === 'finished');
  const metric = config.select.metric ?? finished.map((r) => primaryMetric(r.validation)).find((m) => m !== undefined);
  const sign = config.select.goal === 'min' ? 1 : -1;
  const ranked = metric ? finished.filter((r) => Number.isFinite(r.validation[metric])).sort((a, b) => sign * (a.validation[metric] - b.validation[metric])) : [];
  const selected = ranked.slice(0, config.select.top);
  // Scoring on the test split is the last step of a finished search: while some runs are still
  // to be trained (interrupted, pending or running), the selection may change, so the test split waits.
  const unfinished = runs.filter((r) => UNFINISHED_STATUSES.includes(r.status));
  // (Said only when nothing else explains it: a Slurm job still on the runs has just been reported.)
  if (!options.dryRun && unfinished.length > 0 && config.split[2] > 0 && !slurm?.active) {
    logger.info(`test split not evaluated: ${unfinished.length} run(s) not trained to the end yet`);
  }
  if (!options.dryRun && unfinished.length === 0 && config.split[2] > 0) {
    for (const run of selected) {
      const point = points.find((p) => p.name === run.name)!;
      run.test = await evaluateOnTest(run, point.config);
      logger.info(`selected ${run.name}: test ${Object.entries(run.test.metrics).map(([k, v]) => `${k} ${v.toPrecision(5)}`).join(', ')} (${run.test.count} images)`);
    }
  }

  const files: SweepResult['files'] = { json: path.join(dir, 'sweep.json'), markdown: path.join(dir, 'sweep.md') };
  const summary: SweepResult = {
    name: config.name,
    dir,
    split: config.split,
    metric,
    goal: config.select.goal,
    gridKeys: Object.keys(config.grid),
    runs: runs.map(({ epochRecords: _epochs, ...run }) => run),
    selected: selected.map((r) => r.name),
    files,
    ...(slurm ? { slurm } : {}),
  };
  if (!options.dryRun) {
    const curves = sweepCurvesPng(config.name, metric, ranked.map((r) => ({ name: r.name, epochs: r.epochRecords })));
    if (curves) {
      files.curves = path.join(dir, 'sweep-curves.png');
      await writeFileAtomic(files.curves, curves, { force: true });
    }
    await writeFileAtomic(files.markdown, sweepMarkdown(summary), { force: true });
    const { script: _script, ...job } = slurm ?? {};
    await writeFileAtomic(files.json, JSON.stringify({ ...summary, ...(slurm ? { slurm: job } : {}), select: config.select, finishedAt: new Date().toISOString() }, null, 2) + '\n', { force: true });
  }
  return summary;
}
