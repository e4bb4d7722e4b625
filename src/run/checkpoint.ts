/**
 * Checkpoints: a folder with `checkpoint.json` (family, architecture config, data shape, the list of
 * tensors with their offsets, trainer state) and `tensors.bin` (all float32 values back to back).
 * Loading is a registry lookup of the family, a fresh build, and `setWeights` — never an if/else
 * over families. Written to a temporary folder and renamed into place, so a crash never leaves a
 * half-written checkpoint; `latest.json` (also written then renamed) names the newest one.
 *
 * Hand-written because tfjs's own savers (`model.save('file://')`) live in tfjs-node, which many
 * installs lack, and save one model without optimizer or trainer state.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import { AekitError } from '../core/errors';
import { readJsonFile } from '../core/json-file';
import { tf } from '../core/tfjs-backend';
import { getFamily } from '../models';
import type { BaseModelConfig, DataShape, FamilyModel, PartName } from '../models';

/** Saved optimizer state of one phase: Adam's step count and moments, in the order of the phase's variables. */
export interface AdamState {
  step: number;
  moments: { m: Float32Array; v: Float32Array; shape: number[] }[];
}

export const CHECKPOINT_FORMAT = 'aekit-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Where training stands: enough to continue exactly where it stopped. */
export interface TrainerState {
  /** Epoch being trained (0-based); equals the number of finished epochs when `stepInEpoch` is 0. */
  epoch: number;
  /** Steps of `epoch` already done (non-zero for a checkpoint taken mid-epoch, e.g. on Ctrl-C). */
  stepInEpoch: number;
  /** Global step count. */
  step: number;
  /** Why this checkpoint was written. */
  reason: 'epoch' | 'final' | 'interrupted' | 'last-good';
  /**
   * At an epoch's end: that epoch's training figures. The checkpoint is written before the epoch's
   * validation, so a run resumed after a failure there can still write the epoch's record.
   */
  epochTraining?: { seconds: number; samplesPerSecond: number; train: Record<string, number> };
}

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  family: string;
  model: BaseModelConfig;
  shape: DataShape;
  seed: number;
  parts: Partial<Record<PartName, TensorEntry[]>>;
  optimizers: { phase: string; step: number; moments: { m: TensorEntry; v: TensorEntry }[] }[];
  trainer: TrainerState;
  savedAt: string;
}

/** A checkpoint read back: the rebuilt model plus the saved optimizer and trainer state. */
export interface LoadedCheckpoint {
  dir: string;
  model: FamilyModel;
  seed: number;
  optimizers: Record<string, AdamState>;
  trainer: TrainerState;
}

class TensorWriter {
  readonly chunks: Float32Array[] = [];
  private offset = 0;

  add(name: string, values: Float32Array, shape: number[]): TensorEntry {
    const entry = { name, shape, offset: this.offset };
    this.chunks.push(values);
    this.offset += values.length;
    return entry;
  }

  bytes(): Buffer {
    const buffer = Buffer.alloc(this.offset * 4);
    let at = 0;
    for (const chunk of this.chunks) {
      Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).copy(buffer, at);
      at += chunk.byteLength;
    }
    return buffer;
  }
}

/** Stable weight name: tfjs appends `_1`, `_2` to variable names when a model is built twice in a process. */
export function weightName(w: tf.LayerVariable): string {
  return (w as unknown as { originalName?: string }).originalName ?? w.name;
}

/**
 * Save a checkpoint into `<runDir>/checkpoints/<label>/` and point `latest.json` at it.
 * Returns the checkpoint folder.
 */
export async function saveCheckpoint(
  runDir: string,
  label: string,
  model: FamilyModel,
  seed: number,
  optimizers: { phase: string; state: AdamState }[],
  trainer: TrainerState,
): Promise<string> {
  const root = path.join(runDir, 'checkpoints');
  await fs.mkdir(root, { recursive: true });
  const writer = new TensorWriter();
  const parts: CheckpointManifest['parts'] = {};
  for (const [partName, part] of Object.entries(model.parts) as [PartName, tf.LayersModel][]) {
    parts[partName] = await Promise.all(
      part.weights.map(async (w) => {
        const values = (await w.read().data()) as Float32Array;
        return writer.add(weightName(w), values, w.shape as number[]);
      }),
    );
  }
  const manifestOptimizers = optimizers.map(({ phase, state }) => ({
    phase,
    step: state.step,
    moments: state.moments.map((moment, i) => ({
      m: writer.add(`${phase}/m/${i}`, moment.m, moment.shape),
      v: writer.add(`${phase}/v/${i}`, moment.v, moment.shape),
    })),
  }));
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    family: model.config.family,
    model: model.config,
    shape: model.shape,
    seed,
    parts,
    optimizers: manifestOptimizers,
    trainer,
    savedAt: new Date().toISOString(),
  };
  const finalDir = path.join(root, label);
  const tmpDir = `${finalDir}.tmp-${process.pid}-${Date.now()}`;
  await fs.mkdir(tmpDir, { recursive: true });
  try {
    await fs.writeFile(path.join(tmpDir, 'tensors.bin'), writer.bytes());
    await fs.writeFile(path.join(tmpDir, 'checkpoint.json'), JSON.stringify(manifest, null, 2));
    await fs.rm(finalDir, { recursive: true, force: true });
    await fs.rename(tmpDir, finalDir);
  } catch (error) {
    await fs.rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
  await writeFileAtomic(path.join(root, 'latest.json'), JSON.stringify({ checkpoint: label, trainer }, null, 2) + '\n', { force: true });
  return finalDir;
}

/**
 * Resolve a path to a checkpoint folder: a checkpoint folder itself, a run folder (its latest
 * checkpoint), or a run's `checkpoints/` folder.
 */
export async function findCheckpoint(location: string): Promise<string> {
  const candidates = [location, path.join(location, 'checkpoints')];
  for (const dir of candidates) {
    if (await exists(path.join(dir, 'checkpoint.json'))) return dir;
    const latest = path.join(dir, 'latest.json');
    if (await exists(latest)) {
      const pointer = (await readJsonFile(latest, { invalidCode: 'BAD_CHECKPOINT' })) as { checkpoint?: string };
      if (typeof pointer.checkpoint !== 'string') throw new AekitError('BAD_CHECKPOINT', "missing field 'checkpoint'", { where: latest });
      const target = path.join(dir, pointer.checkpoint);
      if (!(await exists(path.join(target, 'checkpoint.json')))) {
        throw new AekitError('BAD_CHECKPOINT', `points at '${pointer.checkpoint}', which has no checkpoint.json`, { where: latest });
      }
      return target;
    }
  }
  if (!(await exists(location))) throw new AekitError('FILE_NOT_FOUND', 'no such run folder or checkpoint', { where: location });
  throw new AekitError('BAD_CHECKPOINT', 'not a run folder or checkpoint (no checkpoint.json or checkpoints/latest.json)', { where: location });
}

/** Load a checkpoint: rebuild its family from the saved config and restore every tensor. */
export async function loadCheckpoint(location: string): Promise<LoadedCheckpoint> {
  const dir = await findCheckpoint(location);
  const manifestPath = path.join(dir, 'checkpoint.json');
  const manifest = (await readJsonFile(manifestPath, { invalidCode: 'BAD_CHECKPOINT' })) as CheckpointManifest;
  if (manifest.format !== CHECKPOINT_FORMAT) {
    throw new AekitError('BAD_CHECKPOINT', `format is '${String(manifest.format)}', expected '${CHECKPOINT_FORMAT}'`, { where: manifestPath });
  }
  if (manifest.version > CHECKPOINT_VERSION) {
    throw new AekitError('BAD_CHECKPOINT', `version ${manifest.version} is newer than this aekit reads (${CHECKPOINT_VERSION})`, { where: manifestPath });
  }
  const binPath = path.join(dir, 'tensors.bin');
  let raw: Buffer;
  try {
    raw = await fs.readFile(binPath);
  } catch {
    throw new AekitError('BAD_CHECKPOINT', 'tensors.bin is missing', { where: dir });
  }
  if (raw.byteLength % 4 !== 0) throw new AekitError('BAD_CHECKPOINT', `size ${raw.byteLength} is not a whole number of float32 values`, { where: binPath });
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const read = (entry: TensorEntry): Float32Array => {
    const length = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.offset + length > values.length) {
      throw new AekitError('BAD_CHECKPOINT', `tensor '${entry.name}' runs past the end of tensors.bin (truncated file?)`, { where: binPath });
    }
    return values.subarray(entry.offset, entry.offset + length);
  };

  const family = getFamily(manifest.family);
  const config = family.configSchema.parse(manifest.model);
  const model = family.build(config, manifest.shape, manifest.seed);
  try {
    for (const [partName, part] of Object.entries(model.parts) as [PartName, tf.LayersModel][]) {
      const saved = manifest.parts[partName];
      if (!saved) throw new AekitError('BAD_CHECKPOINT', `has no weights for part '${partName}'`, { where: manifestPath });
      if (saved.length !== part.weights.length) {
        throw new AekitError('BAD_CHECKPOINT', `part '${partName}' has ${saved.length} tensors, the '${family.name}' model has ${part.weights.length}`, { where: manifestPath });
      }
      const tensors = part.weights.map((w, i) => {
        const entry = saved[i];
        if (entry.shape.join('x') !== w.shape.join('x')) {
          throw new AekitError('BAD_CHECKPOINT', `tensor '${entry.name}' has shape [${entry.shape}], layer weight '${weightName(w)}' expects [${w.shape}]`, { where: manifestPath });
        }
        return tf.tensor(read(entry), entry.shape);
      });
      part.setWeights(tensors);
      tf.dispose(tensors);
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  const optimizers: Record<string, AdamState> = {};
  for (const opt of manifest.optimizers) {
    optimizers[opt.phase] = {
      step: opt.step,
      moments: opt.moments.map(({ m, v }) => ({ m: read(m).slice(), v: read(v).slice(), shape: m.shape })),
    };
  }
  return { dir, model, seed: manifest.seed, optimizers, trainer: manifest.trainer };
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

