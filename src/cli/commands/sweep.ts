/** `aekit sweep`: train a grid of configurations (here or on Slurm), select on validation, report the test split. */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../core/errors';
import { consoleLogger } from '../../core/log';
import { datasetSpecSchema } from '../../data/registry';
import { checkRunData } from '../../run/data-check';
import { DEFAULT_POLL_SECONDS, loadSweepConfig, runSweep, SWEEP_EXECUTORS, sweepMarkdown } from '../../train/sweep';
import type { SweepConfig, SweepResult } from '../../train/sweep';
import { sweepPoints } from '../../train/sweep/grid';
import { applySets, collect, intFlag, numberFlag, parseOptions, setPath } from '../common';
import { addDataFlags, dataFlagsShape, dataSourceFromFlags } from '../data-flags';
import type { FolderShape } from '../data-flags';
import { onInterrupt } from '../interrupt';

/** Flags that only mean something to the Slurm executor. */
const SLURM_FLAGS = ['partition', 'time', 'gpusPerTask', 'cpusPerTask', 'poll', 'detach'] as const;

const optionsSchema = z.object({
  config: z.string().min(1),
  executor: z.enum(SWEEP_EXECUTORS).default('local'),
  jobs: intFlag.pipe(z.number().int().positive()).optional(),
  partition: z.string().optional(),
  time: z.string().optional(),
  gpusPerTask: z.string().optional(),
  cpusPerTask: intFlag.pipe(z.number().int().positive()).optional(),
  sbatch: z.array(z.string()).default([]),
  poll: numberFlag.pipe(z.number().positive()).optional(),
  detach: z.boolean().default(false),
  collect: z.boolean().default(false),
  outDir: z.string().optional(),
  name: z.string().optional(),
  ...dataFlagsShape,
  limit: intFlag.optional(),
  epochs: intFlag.optional(),
  set: z.array(z.string()).default([]),
  dryRun: z.boolean().default(false),
});
type SweepFlags = z.output<typeof optionsSchema>;

/** The size `--data` is read at when neither the flags nor the recipe's folder give one. */
const DEFAULT_FOLDER_SHAPE: FolderShape = { height: 28, width: 28, channels: 1 };

/** Apply the flags to the sweep file: data source and name, and overrides of its base run config. */
export async function applySweepFlags(config: SweepConfig, flags: SweepFlags): Promise<SweepConfig> {
  const base = structuredClone(config.base);
  // An image folder keeps the recipe's image size unless one is given: models are sized for it.
  const current = datasetSpecSchema.safeParse((base.data as { dataset?: unknown } | undefined)?.dataset);
  const source = await dataSourceFromFlags(flags, { defaults: DEFAULT_FOLDER_SHAPE, current: current.success ? current.data : undefined });
  if (source && 'spec' in source) setPath(base, 'data.dataset', source.spec);
  if (flags.limit !== undefined) setPath(base, 'data.dataset.limit', flags.limit);
  if (flags.epochs !== undefined) setPath(base, 'train.epochs', flags.epochs);
  applySets(base, flags.set);
  return { ...config, base, outDir: flags.outDir ?? config.outDir, name: flags.name ?? config.name };
}

/** Refuse Slurm flags without `--executor slurm` (they would be silently ignored). */
function checkExecutorFlags(flags: SweepFlags): void {
  if (flags.executor === 'slurm') return;
  const given = [...SLURM_FLAGS.filter((f) => flags[f] !== undefined && flags[f] !== false), ...(flags.sbatch.length > 0 ? ['sbatch'] : [])];
  if (given.length > 0) {
    const names = given.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new AekitError('BAD_ARGUMENT', `${names.join(', ')} only appl${names.length > 1 ? 'y' : 'ies'} to --executor slurm (the executor is ${flags.executor})`);
  }
}

/** Print the outcome and set the exit code: 1 while any run is neither finished nor diverged. */
function report(result: SweepResult, flags: SweepFlags): void {
  process.stdout.write(sweepMarkdown(result));
  process.stdout.write(`\nwritten: ${[result.files.markdown, result.files.json, result.files.curves].filter(Boolean).join(', ')}\n`);
  // A diverged configuration is a finding of the search (reported in the table), not a failure.
  const bad = result.runs.filter((r) => r.status !== 'finished' && r.status !== 'diverged');
  if (bad.length === 0) return;
  const job = result.slurm?.jobId !== undefined && result.slurm.active > 0 ? `; Slurm job ${result.slurm.jobId} is still on them: rerun the command to follow it` : '; rerun the command to resume them';
  process.stderr.write(`${bad.length} of ${result.runs.length} runs did not finish (${bad.map((r) => `${r.name}: ${r.status}`).join(', ')})${flags.collect && !result.slurm?.active ? '; rerun without --collect to train them' : job}\n`);
  process.exitCode = 1;
}

/** The `sweep` verb: parses its flags and calls {@link runSweep}. */
export function sweepCommand(): Command {
  const command = new Command('sweep')
    .description(
      'Train a grid of configurations (any config keys, optionally crossed with named variants) on one train/validation/test split ' +
        '(80/10/10 by default); select by validation metric, then evaluate the selection on the untouched test split. ' +
        'Writes <out-dir>/<name>/ (runs/, logs/, sweep.md, sweep.json, sweep-curves.png). Rerun to resume: finished runs are skipped.',
    )
    .requiredOption('-c, --config <file>', 'sweep JSON: {name, base, grid, variants?, split?, select?} (see experiments/)')
    .addOption(new Option('--executor <name>', 'where runs train: local (child processes here) or slurm (one sbatch job array, followed with squeue)').choices([...SWEEP_EXECUTORS]).default('local'))
    .option('-j, --jobs <n>', 'local: training processes at a time (default 1: one run keeps this 2-core machine busy; raise it with more cores); slurm: most array tasks running at once (default: no cap)')
    .option('--partition <name>', 'slurm: partition of the tasks')
    .option('--time <limit>', 'slurm: time limit per task (minutes, HH:MM:SS, D-HH:MM, ...); a task stopped by it checkpoints and resumes on rerun')
    .option('--gpus-per-task <n>', 'slurm: GPUs per task, optionally typed (1, a100:1)')
    .option('--cpus-per-task <n>', 'slurm: CPUs per task')
    .option('--sbatch <option>', 'slurm: another #SBATCH option, e.g. --sbatch=--mem=8G or --sbatch=--account=lab (repeatable)', collect, [])
    .option('--poll <seconds>', `slurm: seconds between squeue calls while following (default ${DEFAULT_POLL_SECONDS})`)
    .option('--detach', 'slurm: submit the job array and return; rerun the command to follow it, or --collect for the table')
    .option('--collect', 'train nothing: build the table, curves and (once every run is finished) the test-split evaluation from the run folders')
    .option('--out-dir <dir>', 'where the sweep folder goes (default: the file\'s outDir, else runs)')
    .option('--name <name>', 'sweep name (its folder), overriding the file');
  return addDataFlags(command, { kind: 'flags', defaults: "the recipe's" })
    .option('--limit <n>', 'use only the first n images of the dataset (of an image folder: n drawn at random, seeded)')
    .option('--epochs <n>', 'epochs of every run')
    .option('--set <key=value>', 'override a field of the base run config, e.g. --set train.batchSize=64 (repeatable)', collect, [])
    .option('--dry-run', 'list the configurations and what would be done with each (slurm: print the job script), train nothing')
    .addHelpText(
      'after',
      `
Examples:
  aekit sweep --config experiments/mnist-vae-grid.json --jobs 1
  aekit sweep --config experiments/mnist-vae-grid-small.json --out-dir /tmp/sweeps
  aekit sweep --config experiments/omniglot-ae-zoo.json --data ~/omniglot/images_background
  aekit sweep --config experiments/mnist-vae-grid-small.json --dataset fashion-mnist
  aekit sweep --config experiments/mnist-vae-grid.json --dry-run
  aekit sweep --config experiments/mnist-vae-grid.json --executor slurm --partition gpu --time 2:00:00 --gpus-per-task 1 --sbatch=--mem=16G
  aekit sweep --config experiments/mnist-vae-grid.json --executor slurm --detach
  aekit sweep --config experiments/mnist-vae-grid.json --collect

A sweep file:
  { "name": "vae-grid", "base": "vae.json",
    "grid": { "model.hiddenSizes": [[400], [800]], "train.learningRate": [0.001, 0.0003] },
    "split": [0.8, 0.1, 0.1], "select": { "top": 2 } }`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      checkExecutorFlags(flags);
      const config = await applySweepFlags(await loadSweepConfig(flags.config), flags);
      // Every configuration's data against its family (a cvae variant on a flat folder), before any run starts.
      const checked = new Set<string>();
      for (const point of sweepPoints(config)) {
        const key = JSON.stringify([point.config.model.family, point.config.data.dataset]);
        if (!checked.has(key)) await checkRunData(point.config);
        checked.add(key);
      }
      const slurm = flags.executor === 'slurm';
      const interrupt = onInterrupt(
        slurm ? 'stopping following; the Slurm job keeps running (rerun the same command to follow it again)' : 'running runs write a checkpoint and stop; rerun the same command to resume',
      );
      try {
        const result = await runSweep(config, {
          executor: flags.executor,
          jobs: flags.jobs,
          slurm: { partition: flags.partition, time: flags.time, gpusPerTask: flags.gpusPerTask, cpusPerTask: flags.cpusPerTask, extra: flags.sbatch, pollSeconds: flags.poll, detach: flags.detach },
          dryRun: flags.dryRun,
          collect: flags.collect,
          logger: consoleLogger(),
          signal: interrupt.signal,
        });
        if (flags.dryRun) {
          if (slurm) process.stdout.write(result.slurm?.script ?? 'nothing to submit: every configuration is finished\n');
          return;
        }
        // Detached: the job was just submitted, so a table of pending runs would say nothing.
        if (flags.detach && result.slurm?.submitted) return;
        report(result, flags);
      } finally {
        interrupt.release();
      }
    });
}
