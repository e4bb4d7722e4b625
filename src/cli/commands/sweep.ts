/** `aekit sweep`: train a grid of configurations, select on validation, report the test split. */
import { Command } from 'commander';
import { z } from 'zod';
import { consoleLogger } from '../../core/log';
import { datasetSpecSchema } from '../../data/registry';
import { checkRunData } from '../../run/data-check';
import { loadSweepConfig, runSweep, sweepMarkdown } from '../../train/sweep';
import type { SweepConfig } from '../../train/sweep';
import { sweepPoints } from '../../train/sweep/grid';
import { applySets, collect, intFlag, parseOptions, setPath } from '../common';
import { addDataFlags, dataFlagsShape, dataSourceFromFlags } from '../data-flags';
import type { FolderShape } from '../data-flags';
import { onInterrupt } from '../interrupt';

const optionsSchema = z.object({
  config: z.string().min(1),
  jobs: intFlag.pipe(z.number().int().positive()).default(1),
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

/** The `sweep` verb: parses its flags and calls {@link runSweep}. */
export function sweepCommand(): Command {
  const command = new Command('sweep')
    .description(
      'Train a grid of configurations (any config keys, optionally crossed with named variants) on one train/validation/test split ' +
        '(80/10/10 by default); select by validation metric, then evaluate the selection on the untouched test split. ' +
        'Writes <out-dir>/<name>/ (runs/, logs/, sweep.md, sweep.json, sweep-curves.png). Rerun to resume: finished runs are skipped.',
    )
    .requiredOption('-c, --config <file>', 'sweep JSON: {name, base, grid, variants?, split?, select?} (see experiments/)')
    .option('-j, --jobs <n>', 'training processes at a time (default 1: one run keeps this 2-core machine busy; raise it with more cores)')
    .option('--out-dir <dir>', 'where the sweep folder goes (default: the file\'s outDir, else runs)')
    .option('--name <name>', 'sweep name (its folder), overriding the file');
  return addDataFlags(command, { kind: 'flags', defaults: "the recipe's" })
    .option('--limit <n>', 'use only the first n images of the dataset (of an image folder: n drawn at random, seeded)')
    .option('--epochs <n>', 'epochs of every run')
    .option('--set <key=value>', 'override a field of the base run config, e.g. --set train.batchSize=64 (repeatable)', collect, [])
    .option('--dry-run', 'list the configurations and what would be done with each, train nothing')
    .addHelpText(
      'after',
      `
Examples:
  aekit sweep --config experiments/mnist-vae-grid.json --jobs 1
  aekit sweep --config experiments/mnist-vae-grid-small.json --out-dir /tmp/sweeps
  aekit sweep --config experiments/omniglot-ae-zoo.json --data ~/omniglot/images_background
  aekit sweep --config experiments/mnist-vae-grid-small.json --dataset fashion-mnist
  aekit sweep --config experiments/mnist-vae-grid.json --dry-run

A sweep file:
  { "name": "vae-grid", "base": "vae.json",
    "grid": { "model.hiddenSizes": [[400], [800]], "train.learningRate": [0.001, 0.0003] },
    "split": [0.8, 0.1, 0.1], "select": { "top": 2 } }`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const config = await applySweepFlags(await loadSweepConfig(flags.config), flags);
      // Every configuration's data against its family (a cvae variant on a flat folder), before any run starts.
      const checked = new Set<string>();
      for (const point of sweepPoints(config)) {
        const key = JSON.stringify([point.config.model.family, point.config.data.dataset]);
        if (!checked.has(key)) await checkRunData(point.config);
        checked.add(key);
      }
      const interrupt = onInterrupt('running runs write a checkpoint and stop; rerun the same command to resume');
      try {
        const result = await runSweep(config, { jobs: flags.jobs, dryRun: flags.dryRun, logger: consoleLogger(), signal: interrupt.signal });
        if (flags.dryRun) return;
        process.stdout.write(sweepMarkdown(result));
        process.stdout.write(`\nwritten: ${[result.files.markdown, result.files.json, result.files.curves].filter(Boolean).join(', ')}\n`);
        // A diverged configuration is a finding of the search (reported in the table), not a failure.
        const bad = result.runs.filter((r) => r.status !== 'finished' && r.status !== 'diverged');
        if (bad.length > 0) {
          process.stderr.write(`${bad.length} of ${result.runs.length} runs did not finish (${bad.map((r) => `${r.name}: ${r.status}`).join(', ')}); rerun the command to resume them\n`);
          process.exitCode = 1;
        }
      } finally {
        interrupt.release();
      }
    });
}
