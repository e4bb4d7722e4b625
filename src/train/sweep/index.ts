/**
 * `aekit sweep`'s library half: a grid of run configs (see ./grid.ts) trained as child
 * processes of the `aekit train` CLI, up to `jobs` at a time, all on one seeded
 * train/validation/test split (80/10/10 by default). Selection looks at validation metrics only;
 * the selected configurations are then evaluated once on the test split, which no run trained or
 * validated on. Rerunning a sweep skips finished runs and resumes interrupted ones.
 *
 * Runs are child processes rather than in-process calls because tfjs keeps one backend and one
 * set of kernels per process: separate processes are what lets runs go in parallel, and a run
 * that crashes (out of memory, a native abort) takes only itself down.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write';
import { AekitError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { silentLogger } from '../../core/log';
import { PACKAGE_ROOT } from '../../core/paths';
import { useBackend } from '../../core/tfjs-backend';
import { loadCheckpoint } from '../../run/checkpoint';
import type { TrainerState } from '../../run/checkpoint';
import type { RunConfig } from '../../run/config';
import { RunFolder } from '../../run/run-folder';
import type { EpochRecord } from '../../run/run-folder';
import { prepareData } from '../data';
import { evaluate, EVALUATION_BATCH_SIZE, primaryMetric } from '../epoch-report';
import { resolveSweepConfig, sweepDir, sweepPoints } from './grid';
import type { SweepConfig, SweepPoint } from './grid';
import { sweepCurvesPng, sweepMarkdown } from './report';
import type { SweepAction, SweepResult, SweepRunResult, SweepRunStatus } from './report';

export { DEFAULT_SWEEP_SPLIT, loadSweepConfig, resolveSweepConfig, sweepConfigSchema, sweepDir, sweepPoints } from './grid';
export type { SweepConfig, SweepConfigInput, SweepPoint } from './grid';
export { formatMetric, sweepMarkdown, CURVES_MAX_RUNS } from './report';
export type { SweepAction, SweepResult, SweepRunResult, SweepRunStatus } from './report';

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /**
   * Training processes at a time (default 1). Each tfjs run already uses the cores its backend
   * can, so more jobs pay off only with more cores than one run keeps busy.
   */
  jobs?: number;
  /** Only plan: report what each run would do, train nothing. */
  dryRun?: boolean;
  /** The command that trains one run, given `train ...` arguments; default: this package's CLI. */
  command?: readonly string[];
  logger?: Logger;
  /** On abort, running children get one SIGINT (they checkpoint and stop) and no new run starts. */
  signal?: AbortSignal;
}

/** How the plan and the start of a run are logged. */
const PLAN_WORDS: Record<SweepAction, string> = { new: 'new', resumed: 'to resume', restarted: 'to restart', skipped: 'to skip' };
const START_WORDS: Record<SweepAction, string> = { new: 'train', resumed: 'resume', restarted: 'restart', skipped: 'skip' };

/** A planned run: what to do with its folder. */
interface Plan {
  point: SweepPoint;
  action: SweepAction;
  runDir: string;
  /** Why a skipped run is not trained again. */
  reason?: TrainerState['reason'];
}

/** The `aekit train` launcher of this package; needs the built CLI (dist/). */
function defaultCommand(): string[] {
  const bin = path.join(PACKAGE_ROOT, 'bin', 'aekit.js');
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'cli', 'index.js'))) {
    throw new AekitError('FILE_NOT_FOUND', 'the aekit CLI is not built (dist/cli/index.js is missing); run `npm run build` first', { where: PACKAGE_ROOT });
  }
  return [process.execPath, bin];
}

async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
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

/**
 * Decide what to do with a point's run folder: train it anew, resume it (interrupted, or asked
 * for more epochs), restart it (started but no checkpoint yet), or skip it (finished, or stopped
 * by the NaN guard, which a rerun would only hit again).
 */
async function planRun(point: SweepPoint): Promise<Plan> {
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
  const latest = await readJsonIfExists<{ trainer?: TrainerState }>(path.join(runDir, 'checkpoints', 'latest.json'));
  const reason = latest?.trainer?.reason;
  if (!reason) return { point, action: 'restarted', runDir };
  if (reason === 'last-good') return { point, action: 'skipped', runDir, reason };
  if (reason === 'final' && stored.train.epochs === wanted.train.epochs) return { point, action: 'skipped', runDir, reason };
  return { point, action: 'resumed', runDir, reason };
}

/** Arguments of `aekit train` for a plan (never called for skipped runs). */
function trainArgs(plan: Plan, configFile: string): string[] {
  if (plan.action === 'resumed') return ['train', '--resume', plan.runDir, '--epochs', String(plan.point.config.train.epochs)];
  return ['train', '--config', configFile, ...(plan.action === 'restarted' ? ['--overwrite'] : [])];
}

/** The last `aekit: ...` line of a log (the CLI prints errors that way), else its last line. */
async function errorLine(log: string): Promise<string> {
  const text = await fs.readFile(log, 'utf8').catch(() => '');
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return [...lines].reverse().find((l) => l.startsWith('aekit: '))?.slice('aekit: '.length) ?? lines[lines.length - 1] ?? 'no output';
}

/** Children still running, killed if this process exits first (they are in their own process group). */
const liveChildren = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveChildren) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** Run one training child with its output going to `log`; resolves with its exit code. */
function runChild(command: readonly string[], args: string[], log: string, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    out.on('open', () => {
      // Own process group: a Ctrl-C in the terminal reaches the sweep only, which then sends each
      // child exactly one SIGINT (a second one would make `aekit train` quit without a checkpoint).
      const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ['ignore', out, out], detached: true, env: { ...process.env, CI: '1' } });
      const pid = child.pid;
      if (pid !== undefined) liveChildren.add(pid);
      const onAbort = () => child.kill('SIGINT');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => {
        out.end();
        reject(new AekitError('BAD_ARGUMENT', `cannot start the training command: ${error.message}`, { where: command.join(' ') }));
      });
      child.on('close', (code, killedBy) => {
        if (pid !== undefined) liveChildren.delete(pid);
        signal?.removeEventListener('abort', onAbort);
        out.end(() => resolve(code ?? (killedBy ? 128 : 1)));
      });
    });
    out.on('error', reject);
  });
}

/** Read what a run folder holds now: status, last epoch, time (`notRun`: not trained this time, by dry run or abort). */
async function collect(plan: Plan, log: string, exitCode: number | undefined, notRun = false): Promise<SweepRunResult & { epochRecords: EpochRecord[] }> {
  const folder = new RunFolder(plan.runDir);
  const epochRecords = (await folder.readMetrics()).filter((r): r is EpochRecord => r.kind === 'epoch');
  const last = epochRecords[epochRecords.length - 1];
  const latest = await readJsonIfExists<{ trainer?: TrainerState }>(path.join(plan.runDir, 'checkpoints', 'latest.json'));
  const reason = latest?.trainer?.reason;
  let status: SweepRunStatus;
  if (notRun) status = 'pending';
  else if (reason === 'final' && (exitCode === undefined || exitCode === 0)) status = 'finished';
  else if (reason === 'last-good') status = 'diverged';
  else if (reason === 'interrupted') status = 'interrupted';
  else status = 'failed';
  const error = status === 'diverged' || status === 'failed' ? await errorLine(log) : undefined;
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
    epochRecords,
  };
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
  const jobs = options.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new AekitError('BAD_ARGUMENT', `jobs must be a whole number of at least 1, got ${jobs}`);
  const cores = os.availableParallelism();
  if (jobs > cores) logger.warn(`${jobs} jobs on ${cores} cores: the runs will compete for the CPU; ${cores} or fewer is faster`);

  const plans = await Promise.all(points.map(planRun));
  const logsDir = path.join(dir, 'logs');
  const configsDir = path.join(dir, 'configs');
  const logFor = (name: string) => path.join(logsDir, `${name}.log`);
  const counts = plans.reduce<Record<string, number>>((c, p) => ({ ...c, [p.action]: (c[p.action] ?? 0) + 1 }), {});
  logger.info(`sweep ${config.name}: ${plans.length} configurations (${Object.entries(counts).map(([a, n]) => `${n} ${PLAN_WORDS[a as SweepAction]}`).join(', ')}); folder ${dir}`);
  if (options.dryRun) {
    for (const plan of plans) logger.info(`  ${plan.point.name}: ${plan.action}${plan.reason ? ` (checkpoint: ${plan.reason})` : ''}`);
  }

  const results = new Map<string, Awaited<ReturnType<typeof collect>>>();
  if (!options.dryRun) {
    await fs.mkdir(logsDir, { recursive: true });
    await fs.mkdir(configsDir, { recursive: true });
    const command = options.command ?? defaultCommand();
    installExitHook();
    const queue = [...plans];
    let started = 0;
    const worker = async () => {
      for (let plan = queue.shift(); plan; plan = queue.shift()) {
        const log = logFor(plan.point.name);
        if (plan.action === 'skipped') {
          logger.info(`skip ${plan.point.name}: ${plan.reason === 'final' ? 'finished' : 'stopped by the NaN guard'} earlier`);
          results.set(plan.point.name, await collect(plan, log, undefined));
          continue;
        }
        if (options.signal?.aborted) {
          results.set(plan.point.name, await collect(plan, log, undefined, true));
          continue;
        }
        const index = ++started;
        const configFile = path.join(configsDir, `${plan.point.name}.json`);
        await writeFileAtomic(configFile, JSON.stringify(plan.point.config, null, 2) + '\n', { force: true });
        logger.info(`[${index}/${plans.length - (counts.skipped ?? 0)}] ${START_WORDS[plan.action]} ${plan.point.name} (log: ${log})`);
        const code = await runChild(command, trainArgs(plan, configFile), log, options.signal);
        const result = await collect(plan, log, code);
        results.set(plan.point.name, result);
        const metric = primaryMetric(result.validation);
        logger.info(`${result.status} ${plan.point.name}${metric ? `: validation ${metric} ${result.validation[metric].toPrecision(5)}` : ''}${result.error ? `: ${result.error}` : ''}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, plans.length) }, worker));
  } else {
    for (const plan of plans) results.set(plan.point.name, await collect(plan, logFor(plan.point.name), undefined, plan.action !== 'skipped'));
  }

  const runs = plans.map((p) => results.get(p.point.name)!);
  const finished = runs.filter((r) => r.status === 'finished');
  const metric = config.select.metric ?? finished.map((r) => primaryMetric(r.validation)).find((m) => m !== undefined);
  const sign = config.select.goal === 'min' ? 1 : -1;
  const ranked = metric ? finished.filter((r) => Number.isFinite(r.validation[metric])).sort((a, b) => sign * (a.validation[metric] - b.validation[metric])) : [];
  const selected = ranked.slice(0, config.select.top);
  // Scoring on the test split is the last step of a finished search: while some runs are still
  // to be trained (interrupted or pending), the selection may change, so the test split waits.
  const unfinished = runs.filter((r) => r.status === 'interrupted' || r.status === 'pending');
  if (!options.dryRun && unfinished.length > 0 && config.split[2] > 0) {
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
  };
  if (!options.dryRun) {
    const curves = sweepCurvesPng(config.name, metric, ranked.map((r) => ({ name: r.name, epochs: r.epochRecords })));
    if (curves) {
      files.curves = path.join(dir, 'sweep-curves.png');
      await writeFileAtomic(files.curves, curves, { force: true });
    }
    await writeFileAtomic(files.markdown, sweepMarkdown(summary), { force: true });
    await writeFileAtomic(files.json, JSON.stringify({ ...summary, select: config.select, finishedAt: new Date().toISOString() }, null, 2) + '\n', { force: true });
  }
  return summary;
}
