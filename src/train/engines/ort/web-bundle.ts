/**
 * Fine-tuning bundles: a run's training step compiled by ./compile.ts with Adam in the graph (the
 * variant ./engine.ts runs on every runtime but onnxruntime-node's CPU), plus the state it updates
 * and a manifest naming every input and output (src/artifact/train-step-format.ts). The browser
 * module's `loadTrainer` (src/serve/web/fine-tune.ts) runs it on onnxruntime-web, so a model can
 * be fine-tuned in a page; any other onnxruntime can run it from the manifest alone.
 *
 * Adam in the graph rather than on the host: a page then needs no optimizer code of its own, and
 * on WebGPU the whole step stays one `session.run`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../../core/atomic-write';
import { AekitError } from '../../../core/errors';
import type { Logger } from '../../../core/log';
import { silentLogger } from '../../../core/log';
import { useBackend } from '../../../core/tfjs-backend';
import type { StepContext } from '../../../models';
import { loadCheckpoint, weightName } from '../../../run/checkpoint';
import { resolveRunConfig } from '../../../run/config';
import type { RunConfig, RunConfigInput } from '../../../run/config';
import { exponentialLr } from '../../optim';
import { compilePhases } from './compile';
import type { VariableIo } from './compile';
import { modelBytes } from './graph';
import { TRAIN_STEP_FILES, TRAIN_STEP_FORMAT, TRAIN_STEP_VERSION } from '../../../artifact/train-step-format';
import type { TrainStepManifest, TrainStepNoise, TrainStepTensor } from '../../../artifact/train-step-format';

export { TRAIN_STEP_FILES, TRAIN_STEP_FORMAT, TRAIN_STEP_VERSION } from '../../../artifact/train-step-format';
export type { TrainStepManifest, TrainStepNoise, TrainStepTensor, TrainStepTensorRole } from '../../../artifact/train-step-format';

/** Options of {@link exportTrainingStep}. */
export interface TrainingStepExportOptions {
  /**
   * The run config whose `train` settings (Adam, clipping, learning rate, beta, batch size) the
   * step uses. Default: the run's own `config.json` (needed when `location` is a bare checkpoint).
   */
  config?: RunConfigInput | RunConfig;
  /** Images per step (default: the run's `train.batchSize`). The step is compiled for exactly this many. */
  batchSize?: number;
  /** Learning rate recorded in the manifest (default: the run's at the checkpoint's epoch). */
  learningRate?: number;
  /** KL weight fed to the step (default: the run's `train.beta`, i.e. past any warm-up). */
  beta?: number;
  /** Replace existing bundle files. */
  force?: boolean;
  logger?: Logger;
}

/** What {@link exportTrainingStep} wrote. */
export interface TrainingStepExport {
  dir: string;
  /** Paths of the manifest, the step graph and the state. */
  files: { manifest: string; model: string; state: string };
  manifest: TrainStepManifest;
}

/**
 * Write a fine-tuning bundle of a run (its latest checkpoint) or checkpoint into `outDir`:
 * `step.onnx`, `state.bin` and `train-step.json` (see src/artifact/train-step-format.ts).
 *
 * @throws AekitError BAD_CONFIG for a family with several training phases (the GANs) or one the
 *   ort engine does not train; BAD_CHECKPOINT when the saved optimizer state does not fit the
 *   model; FILE_NOT_FOUND without a run config; ALREADY_EXISTS for existing files without `force`.
 */
export async function exportTrainingStep(location: string, outDir: string, options: TrainingStepExportOptions = {}): Promise<TrainingStepExport> {
  const logger = options.logger ?? silentLogger;
  await useBackend('auto');
  const loaded = await loadCheckpoint(location);
  const model = loaded.model;
  try {
    const config = await runConfig(loaded.dir, options.config);
    const family = model.config.family;
    if (model.phases.length !== 1) {
      throw new AekitError(
        'BAD_CONFIG',
        `family '${family}' trains in ${model.phases.length} phases (${model.phases.map((p) => p.name).join(', ')}); fine-tuning bundles hold one training step, so only single-phase families can be exported`,
        { where: '--part train-step' },
      );
    }
    const batchSize = options.batchSize ?? config.train.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new AekitError('BAD_ARGUMENT', `batch size must be a positive whole number, got ${batchSize}`, { where: 'batchSize' });
    const [compiled] = compilePhases(model, { batchSize, adam: config.train.adam, clipNorm: config.train.clipNorm, optimizer: 'graph' });
    if (compiled.optimizer.kind !== 'graph') throw new Error('engine ort: asked for Adam in the graph, got it on the host');
    const adamIo = compiled.optimizer;
    const trainer = loaded.trainer;
    const beta = options.beta ?? config.train.beta;
    // The run's next step: what step-dependent scalars (a Gumbel temperature, beta-vae's warm-up) are evaluated at.
    const next: StepContext = { step: trainer.step, epoch: trainer.epoch, seed: loaded.seed, beta };

    const names = new Map<string, string>();
    for (const [part, network] of Object.entries(model.parts)) {
      for (const w of network.weights) if (!names.has(w.name)) names.set(w.name, `${part}/${weightName(w)}`);
    }
    const nameOf = (io: VariableIo) => names.get(io.variable.name) ?? io.variable.name;

    const values: Float32Array[] = [];
    let offset = 0;
    const tensors: TrainStepTensor[] = [];
    const add = (entry: Omit<TrainStepTensor, 'offset' | 'shape'>, shape: number[], data: Float32Array) => {
      const expected = shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) throw new AekitError('BAD_CHECKPOINT', `tensor '${entry.name}' has ${data.length} values, its shape [${shape}] needs ${expected}`, { where: loaded.dir });
      tensors.push({ ...entry, shape, offset });
      values.push(data);
      offset += data.length;
    };
    const read = (io: VariableIo) => (io.variable.read().dataSync() as Float32Array).slice();

    const saved = loaded.optimizers[compiled.phase];
    if (saved && saved.moments.length !== compiled.trained.length) {
      throw new AekitError('BAD_CHECKPOINT', `optimizer state of phase '${compiled.phase}' has ${saved.moments.length} moment pairs, the model trains ${compiled.trained.length} tensors`, { where: loaded.dir });
    }
    compiled.trained.forEach((io, i) => {
      const shape = io.variable.shape as number[];
      const name = nameOf(io);
      const slot = adamIo.slots[i];
      add({ name, role: 'parameter', input: io.input, output: slot.output }, shape, read(io));
      const zeros = () => new Float32Array(shape.reduce((a, b) => a * b, 1));
      // A checkpoint without optimizer state (a model never trained by aekit's trainer) starts Adam afresh.
      add({ name: `${name}#m`, role: 'adam-m', input: slot.m.input, output: slot.m.output, of: name }, shape, saved ? saved.moments[i].m : zeros());
      add({ name: `${name}#v`, role: 'adam-v', input: slot.v.input, output: slot.v.output, of: name }, shape, saved ? saved.moments[i].v : zeros());
    });
    for (const io of compiled.others) {
      add({ name: nameOf(io), role: io.output ? 'statistic' : 'frozen', input: io.input, ...(io.output ? { output: io.output } : {}) }, io.variable.shape as number[], read(io));
    }

    let images: TrainStepManifest['images'] | undefined;
    let labels: TrainStepManifest['labels'];
    const noise: TrainStepNoise[] = [];
    const scalars: TrainStepManifest['scalars'] = [];
    for (const input of compiled.stepInputs) {
      const drawShape = input.drawShape ?? input.shape;
      switch (input.fill.kind) {
        case 'images':
          images = { input: input.input, dims: input.shape };
          break;
        case 'oneHot':
          labels = { input: input.input, numClasses: input.shape[1] };
          break;
        case 'beta':
          scalars.push({ input: input.input, value: beta });
          break;
        case 'stepScalar':
          scalars.push({ input: input.input, value: input.fill.value(next) });
          break;
        case 'normal':
          noise.push({ input: input.input, dims: input.shape, drawShape, distribution: 'normal', mean: input.fill.mean, std: input.fill.std });
          break;
        case 'uniform':
          noise.push({ input: input.input, dims: input.shape, drawShape, distribution: 'uniform', low: 0, high: 1 });
          break;
        case 'imagesB':
          throw new AekitError('BAD_CONFIG', `family '${family}' trains on two image domains; fine-tuning bundles take one batch of images`, { where: '--part train-step' });
      }
    }
    if (!images) throw new Error(`engine ort: the step of family '${family}' reads no images`);

    const manifest: TrainStepManifest = {
      format: TRAIN_STEP_FORMAT,
      version: TRAIN_STEP_VERSION,
      family,
      phase: compiled.phase,
      files: { model: TRAIN_STEP_FILES.model, state: TRAIN_STEP_FILES.state },
      batchSize,
      imageShape: { height: model.shape.height, width: model.shape.width, channels: model.shape.channels },
      valueRange: model.shape.valueRange,
      images,
      ...(labels ? { labels } : {}),
      noise,
      scalars,
      optimizer: {
        kind: 'adam',
        learningRate: options.learningRate ?? exponentialLr(config.train.learningRate, config.train.lrDecay, trainer.epoch),
        ...config.train.adam,
        ...(config.train.clipNorm !== undefined ? { clipNorm: config.train.clipNorm } : {}),
        step: saved?.step ?? 0,
        lrOverC1Input: adamIo.lrOverC1,
        c2Input: adamIo.c2,
      },
      tensors,
      losses: compiled.terms,
      gradNorm: compiled.gradNorm,
      // `<run>/checkpoints/<label>`, not the absolute path: bundles are served to the world.
      source: { checkpoint: path.relative(path.resolve(loaded.dir, '..', '..', '..'), loaded.dir).split(path.sep).join('/'), trainerStep: trainer.step, epoch: trainer.epoch },
    };

    const state = new Float32Array(offset);
    let at = 0;
    for (const v of values) {
      state.set(v, at);
      at += v.length;
    }
    const files = {
      manifest: path.join(outDir, TRAIN_STEP_FILES.manifest),
      model: path.join(outDir, TRAIN_STEP_FILES.model),
      state: path.join(outDir, TRAIN_STEP_FILES.state),
    };
    const write = { force: options.force };
    // The manifest last: a folder with a manifest has the files it names.
    await writeFileAtomic(files.model, modelBytes(compiled.model), write);
    await writeFileAtomic(files.state, littleEndian(state), write);
    await writeFileAtomic(files.manifest, JSON.stringify(manifest, null, 2) + '\n', write);
    logger.info(`fine-tuning bundle of ${family} (step ${trainer.step}, batch ${batchSize}, ${tensors.length} state tensors, ${Math.round((offset * 4) / 1024)} KiB) in ${outDir}`);
    return { dir: outDir, files, manifest };
  } finally {
    model.dispose();
  }
}

/** The run config: given, or `config.json` of the run the checkpoint belongs to (`<run>/checkpoints/<label>/`). */
async function runConfig(checkpointDir: string, given: TrainingStepExportOptions['config']): Promise<RunConfig> {
  if (given) return resolveRunConfig(given, 'config');
  const file = path.join(path.resolve(checkpointDir, '..', '..'), 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new AekitError('FILE_NOT_FOUND', 'the checkpoint has no run config.json next to it; pass the run config (options.config) for its training settings', { where: file });
  }
  return resolveRunConfig(JSON.parse(text) as unknown, file);
}

/** The bytes of float32 values, little-endian whatever the host's order (the format's). */
function littleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return bytes;
}
