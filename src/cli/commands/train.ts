/** `aekit train`: train a model from a config file and/or flags. */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../core/errors';
import { consoleLogger } from '../../core/log';
import { TFJS_BACKENDS } from '../../core/tfjs-backend';
import { ENGINE_CHOICES } from '../../train/engines';
import { train } from '../../train/trainer';
import type { SampleMetricsHook, TrainResult } from '../../train/trainer';
import { trainingFid } from '../../train/sample-fid';
import { familyNames } from '../../models';
import { datasetSpecSchema } from '../../data/registry';
import { resumeTarget } from '../../run/checkpoint';
import { resolveRunConfig, unknownConfigField } from '../../run/config';
import { checkRunData } from '../../run/data-check';
import { applySets, collect, intFlag, numberFlag, parseOptions, readJsonFile, setPath } from '../common';
import { addDataFlags, dataFlagsShape, dataSourceFromFlags, reportingFolderReads } from '../data-flags';
import type { FolderShape } from '../data-flags';
import { TRAIN_INTERRUPT, onInterrupt } from '../interrupt';
import { trainProgress, fmt } from '../progress';

const optionsSchema = z.object({
  config: z.string().optional(),
  name: z.string().optional(),
  outDir: z.string().optional(),
  model: z.string().optional(),
  architecture: z.enum(['conv', 'mlp']).optional(),
  latent: intFlag.optional(),
  ...dataFlagsShape,
  limit: intFlag.optional(),
  valueRange: z.enum(['unit', 'symmetric']).optional(),
  epochs: intFlag.optional(),
  batchSize: intFlag.optional(),
  lr: numberFlag.optional(),
  lrDecay: numberFlag.optional(),
  clipNorm: numberFlag.optional(),
  beta: numberFlag.optional(),
  betaWarmupEpochs: numberFlag.optional(),
  seed: intFlag.optional(),
  backend: z.enum([...TFJS_BACKENDS, 'auto']).optional(),
  engine: z.enum(ENGINE_CHOICES).optional(),
  stepsPerEpoch: intFlag.optional(),
  set: z.array(z.string()).default([]),
  resume: z.string().optional(),
  overwrite: z.boolean().default(false),
  /** true: the shipped MNIST classifier; a string: another classifier artifact. */
  fid: z.union([z.boolean(), z.string()]).optional(),
});
type TrainFlags = z.output<typeof optionsSchema>;

/** The size `--data` is read at when neither the flags nor the config's folder give one. */
const DEFAULT_FOLDER_SHAPE: FolderShape = { height: 28, width: 28, channels: 1 };

/**
 * Build the run config from a config file (or a resumed run's config) and the flags over it.
 * `--resume` takes a run folder or one of its checkpoint folders (`<run>/checkpoints/<label>`).
 */
export async function configFromFlags(flags: TrainFlags): Promise<Record<string, unknown>> {
  const resumed = flags.resume ? (await resumeTarget(flags.resume)).folder : undefined;
  const config: Record<string, unknown> = resumed
    ? { ...(await resumed.readConfig()) }
    : flags.config
      ? await readJsonFile(flags.config)
      : {};
  if (resumed) {
    setPath(config, 'name', path.basename(path.resolve(resumed.dir)));
    setPath(config, 'outDir', path.dirname(path.resolve(resumed.dir)));
  }
  const set = (key: string, value: unknown) => value !== undefined && setPath(config, key, value);
  set('name', flags.name);
  set('outDir', flags.outDir);
  set('model.family', flags.model);
  set('model.architecture', flags.architecture);
  set('model.latentSize', flags.latent);
  const current = datasetSpecSchema.safeParse((config.data as { dataset?: unknown } | undefined)?.dataset);
  const source = await dataSourceFromFlags(flags, { defaults: DEFAULT_FOLDER_SHAPE, current: current.success ? current.data : undefined });
  if (source && 'spec' in source) set('data.dataset', source.spec);
  set('data.dataset.limit', flags.limit);
  set('data.valueRange', flags.valueRange);
  set('train.epochs', flags.epochs);
  set('train.batchSize', flags.batchSize);
  set('train.learningRate', flags.lr);
  set('train.lrDecay', flags.lrDecay);
  set('train.clipNorm', flags.clipNorm);
  set('train.beta', flags.beta);
  set('train.betaWarmupEpochs', flags.betaWarmupEpochs);
  set('train.seed', flags.seed);
  set('train.backend', flags.backend);
  set('train.engine', flags.engine);
  set('train.stepsPerEpoch', flags.stepsPerEpoch);
  applySets(config, flags.set, unknownConfigField);
  if (config.name === undefined) {
    const family = (config.model as { family?: string } | undefined)?.family ?? 'run';
    setPath(config, 'name', `${family}-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`);
  }
  return config;
}

/**
 * Run training with progress output, warnings on stderr and Ctrl-C handling (first: checkpoint and
 * stop; second: exit). A run that fails says where its last checkpoint is and how to resume.
 */
async function runTraining(config: Record<string, unknown>, opts: { resume: boolean; resumeFrom?: string; overwrite: boolean; sampleMetrics?: SampleMetricsHook }): Promise<TrainResult> {
  const interrupt = onInterrupt(TRAIN_INTERRUPT);
  let runDir: string | undefined;
  let checkpoint: string | undefined;
  const progress = trainProgress();
  try {
    return await train(config, {
      ...opts,
      logger: consoleLogger(),
      onEvent: (event) => {
        if (event.type === 'start') runDir = event.runDir;
        if (event.type === 'checkpoint') checkpoint = event.dir;
        progress(event);
      },
      signal: interrupt.signal,
    });
  } catch (error) {
    if (runDir) {
      const next = checkpoint || opts.resume ? `continue from its latest checkpoint with: aekit train --resume ${runDir}` : 'it failed before its first checkpoint';
      process.stderr.write(`run failed; ${path.join(runDir, 'run.json')} records the error; ${next}\n`);
    }
    throw error;
  } finally {
    interrupt.release();
  }
}

/** What `aekit train` needs at least, as one line (printed when a piece is missing). */
export const TRAIN_USAGE = 'usage: aekit train --config <recipe.json> [flags], or aekit train --model <family> (--dataset <name> | --data <folder> | --idx <images.gz>) [flags]; see aekit train --help';

/**
 * Refuse a config with no model family or no data with the usage line rather than the schema's
 * field errors: with neither a recipe nor those flags, the flags are what the user is missing.
 */
export function checkTrainPieces(config: Record<string, unknown>, flags: { config?: string }): void {
  const family = (config.model as { family?: unknown } | undefined)?.family;
  const dataset = (config.data as { dataset?: unknown } | undefined)?.dataset;
  const missing = [family === undefined && 'a model family (--model)', dataset === undefined && 'data (--dataset, --data or --idx)'].filter(Boolean);
  if (missing.length === 0) return;
  const from = flags.config ? ` (${flags.config} gives none)` : '';
  throw new AekitError('BAD_ARGUMENT', `missing ${missing.join(' and ')}${from}\n${TRAIN_USAGE}`, { where: 'aekit train' });
}

/** One-paragraph summary of a finished run. */
export function summarise(result: TrainResult): string {
  const last = result.lastEpoch;
  const lines = [
    result.interrupted ? `interrupted after step ${result.steps}; resume with: aekit train --resume ${result.runDir}` : `finished ${result.epochsDone} epochs (${result.steps} steps)`,
    `run folder: ${result.runDir}`,
    `checkpoint: ${result.checkpointDir}`,
  ];
  if (last) {
    lines.push(`last epoch: ${Object.entries(last.validation).map(([k, v]) => `validation ${k} ${fmt(v)}`).join(', ') || Object.entries(last.train).map(([k, v]) => `train ${k} ${fmt(v)}`).join(', ')}`);
  }
  return lines.join('\n');
}

export function trainCommand(): Command {
  const command = new Command('train')
    .description('Train a model from a config file and/or flags; writes runs/<name>/ (config, metrics, checkpoints, sample grids, loss curve).')
    .option('-c, --config <file>', 'run config JSON (see experiments/)')
    .option('--name <name>', 'run name (folder under --out-dir)')
    .option('--out-dir <dir>', 'where run folders go (default runs)')
    .option('--model <family>', `model family: ${familyNames().join(', ')}`)
    .addOption(new Option('--architecture <kind>', 'conv or mlp').choices(['conv', 'mlp']))
    .option('--latent <n>', 'latent size');
  return addDataFlags(command, { kind: 'flags', defaults: "the config's folder size, else 28x28 with 1 channel" })
    .option('--limit <n>', 'use only the first n images (of an image folder: n drawn at random, seeded)')
    .addOption(new Option('--value-range <range>', 'unit = [0,1], symmetric = [-1,1]').choices(['unit', 'symmetric']))
    .option('--epochs <n>', 'number of epochs')
    .option('--batch-size <n>', 'batch size')
    .option('--lr <x>', 'learning rate')
    .option('--lr-decay <gamma>', 'exponential lr decay per epoch')
    .option('--clip-norm <x>', 'clip gradients to this global norm')
    .option('--beta <x>', 'KL weight (VAE families)')
    .option('--beta-warmup-epochs <x>', 'linear KL warm-up length in epochs')
    .option('--seed <n>', 'random seed')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...TFJS_BACKENDS, 'auto']))
    .addOption(
      new Option('--engine <name>', 'training engine: auto (default: ort where it can train the model, else tfjs), ort (the whole step compiled to ONNX and run on onnxruntime; faster on CPU) or tfjs').choices([
        ...ENGINE_CHOICES,
      ]),
    )
    .option('--steps-per-epoch <n>', 'cap steps per epoch')
    .option('--set <key=value>', 'override any config field, e.g. --set model.convChannels=[32,64] (repeatable)', collect, [])
    .option('--resume <run-dir>', 'continue a run from its newest complete checkpoint, or from <run>/checkpoints/<label> (flags such as --epochs extend it)')
    .option('--overwrite', 'replace an existing run folder of the same name')
    .option('--fid [net.onnx]', 'track FID of prior samples every epoch (default: the shipped feature network for the image shape, as aekit eval picks it: 28x28 gray or RGB; other shapes need one, e.g. inception.onnx)')
    .addHelpText(
      'after',
      `
Examples:
  aekit train --config experiments/quickstart.json
  aekit train --model vae --architecture mlp --latent 20 --dataset mnist --epochs 5
  aekit train --config experiments/quickstart.json --engine tfjs
  aekit train --model cvae --dataset mnist --epochs 3 --set model.convChannels=[16,32]
  aekit train --model ae --data ~/omniglot --image-size 28x28 --epochs 10
  aekit train --model dcgan --data ~/cats --image-size 64x64 --channels 3 --value-range symmetric
  aekit train --model vae --dataset fashion-mnist --epochs 5
  aekit train --model cvae --idx emnist-letters-train-images-idx3-ubyte.gz --idx-labels emnist-letters-train-labels-idx1-ubyte.gz --idx-transpose
  aekit train --resume runs/quickstart --epochs 6
  aekit train --config experiments/dcgan-mnist.json --fid`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const config = await configFromFlags(flags);
      checkTrainPieces(config, flags);
      // Refuse data the family cannot learn from (e.g. a conditional model on a flat folder) before anything is built.
      await checkRunData(resolveRunConfig(config, flags.config ?? 'config'));
      const resumeFrom = flags.resume ? (await resumeTarget(flags.resume)).checkpoint : undefined;
      await reportingFolderReads(consoleLogger(), async () => {
        const fid = flags.fid === undefined || flags.fid === false ? undefined : await trainingFid(config, { classifier: typeof flags.fid === 'string' ? flags.fid : undefined });
        try {
          const result = await runTraining(config, { resume: Boolean(flags.resume), resumeFrom, overwrite: flags.overwrite, sampleMetrics: fid });
          process.stdout.write(summarise(result) + '\n');
        } finally {
          await fid?.release();
        }
      });
    });
}
