/**
 * Checkpoints: a folder with `checkpoint.json` and `tensors.bin` (./checkpoint-format.ts) under the
 * run's `checkpoints/` (./checkpoint-folder.ts). Loading is a registry lookup of the family, a
 * fresh build, and `setWeights`, never an if/else over families. A checkpoint is written to a
 * writer folder, flushed to disk and renamed into place, so no kill leaves a half-written one;
 * `latest.json` (also written then renamed) names the newest.
 *
 * Hand-written because tfjs's own savers (`model.save('file://')`) live in tfjs-node, which many
 * installs lack, and save one model without optimizer or trainer state.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { syncDirectory } from '../core/atomic-write';
import { AekitError } from '../core/errors';
import { faultPoint } from '../core/fault-point';
import { tf } from '../core/tfjs-backend';
import { getFamily } from '../models';
import type { FamilyModel, PartName } from '../models';
import { CHECKPOINT_FILES, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, readManifest, tensorValues } from './checkpoint-format';
import type { AdamState, CheckpointManifest, EpochSoFar, TensorEntry, TrainerState } from './checkpoint-format';
import { findCheckpoint, writeLatest, writerFolderName } from './checkpoint-folder';
import { RunFolder } from './run-folder';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoint-format';
export type { AdamState, EpochSoFar, TrainerState } from './checkpoint-format';
export { findCheckpoint, newestCheckpoint, resumeTarget } from './checkpoint-folder';
export type { FoundCheckpoint } from './checkpoint-folder';

/** A checkpoint read back: the rebuilt model plus the saved optimizer and trainer state. */
export interface LoadedCheckpoint {
  dir: string;
  model: FamilyModel;
  seed: number;
  optimizers: Record<string, AdamState>;
  trainer: TrainerState;
  /** A mid-epoch checkpoint's figures of the epoch so far. */
  epochSoFar?: EpochSoFar;
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

  /** Write the values to `file` chunk by chunk (no second copy of the weights), flushed to disk. */
  async writeTo(file: string): Promise<void> {
    const handle = await fs.open(file, 'wx');
    try {
      for (const [i, chunk] of this.chunks.entries()) {
        await handle.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (i === 0) faultPoint('checkpoint:tensors-partial');
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** Stable weight name: tfjs appends `_1`, `_2` to variable names when a model is built twice in a process. */
export function weightName(w: tf.LayerVariable): string {
  return (w as unknown as { originalName?: string }).originalName ?? w.name;
}

/**
 * Save a checkpoint into `<runDir>/checkpoints/<label>/` and point `latest.json` at it.
 * Returns the checkpoint folder. A kill at any moment leaves the previous checkpoints whole (see
 * ./checkpoint-folder.ts for how the next trainer finds the newest and clears what was left).
 */
export async function saveCheckpoint(
  runDir: string,
  label: string,
  model: FamilyModel,
  seed: number,
  optimizers: { phase: string; state: AdamState }[],
  trainer: TrainerState,
  epochSoFar?: EpochSoFar,
): Promise<string> {
  const folder = new RunFolder(runDir);
  const root = folder.checkpointsDir;
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
    ...(epochSoFar ? { epochSoFar } : {}),
    savedAt: new Date().toISOString(),
  };
  const finalDir = path.join(root, label);
  const tmpDir = path.join(root, writerFolderName(label, 'tmp'));
  await fs.mkdir(tmpDir);
  try {
    await writer.writeTo(path.join(tmpDir, CHECKPOINT_FILES.tensors));
    faultPoint('checkpoint:tensors');
    // The manifest last: a folder with a readable manifest and a tensors.bin of its size is whole.
    const handle = await fs.open(path.join(tmpDir, CHECKPOINT_FILES.manifest), 'wx');
    try {
      await handle.writeFile(JSON.stringify(manifest, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await syncDirectory(tmpDir);
    faultPoint('checkpoint:manifest');
    await replaceFolder(tmpDir, finalDir, label);
  } catch (error) {
    await fs.rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
  faultPoint('checkpoint:renamed');
  await writeLatest(folder, label, trainer);
  return finalDir;
}

/**
 * Move the whole checkpoint `from` to `to`. A checkpoint already there (the label written again:
 * `interrupted`, `last-good`) is first moved aside and removed only after, so a kill in between
 * leaves both whole folders for the next trainer to choose from.
 */
async function replaceFolder(from: string, to: string, label: string): Promise<void> {
  const old = path.join(path.dirname(to), writerFolderName(label, 'old'));
  const replacing = await fs.rename(to, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  if (replacing) faultPoint('checkpoint:aside');
  await fs.rename(from, to);
  await syncDirectory(path.dirname(to));
  if (replacing) await fs.rm(old, { recursive: true, force: true });
}

/** Load a checkpoint: rebuild its family from the saved config and restore every tensor. */
export async function loadCheckpoint(location: string): Promise<LoadedCheckpoint> {
  const dir = await findCheckpoint(location);
  const manifestPath = path.join(dir, CHECKPOINT_FILES.manifest);
  const manifest = await readManifest(dir);
  const binPath = path.join(dir, CHECKPOINT_FILES.tensors);
  let raw: Buffer;
  try {
    raw = await fs.readFile(binPath);
  } catch {
    throw new AekitError('BAD_CHECKPOINT', 'tensors.bin is missing', { where: dir });
  }
  const expected = tensorValues(manifest) * 4;
  if (raw.byteLength !== expected) {
    throw new AekitError('BAD_CHECKPOINT', `size ${raw.byteLength} bytes, expected ${expected} (the tensors checkpoint.json lists): ${raw.byteLength < expected ? 'truncated' : 'not this checkpoint\'s file'}`, { where: binPath });
  }
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const read = (entry: TensorEntry): Float32Array => values.subarray(entry.offset, entry.offset + entry.shape.reduce((a, b) => a * b, 1));

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
  return { dir, model, seed: manifest.seed, optimizers, trainer: manifest.trainer, ...(manifest.epochSoFar ? { epochSoFar: manifest.epochSoFar } : {}) };
}
