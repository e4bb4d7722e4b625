/**
 * What a checkpoint folder holds: `checkpoint.json` (family, architecture config, data shape, the
 * list of tensors with their offsets, optimizer and trainer state) and `tensors.bin` (every float32
 * value back to back), and how to tell a whole one from what a killed writer left.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import { readJsonFile } from '../core/json-file';
import type { BaseModelConfig, DataShape, PartName } from '../models';

export const CHECKPOINT_FORMAT = 'aekit-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** The files of a checkpoint folder. */
export const CHECKPOINT_FILES = Object.freeze({ manifest: 'checkpoint.json', tensors: 'tensors.bin' });

/** Saved optimizer state of one phase: Adam's step count and moments, in the order of the phase's variables. */
export interface AdamState {
  step: number;
  moments: { m: Float32Array; v: Float32Array; shape: number[] }[];
}

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

/** An epoch's training figures up to a step: sample-weighted sums of the loss terms, samples, seconds. */
export interface EpochSoFar {
  sums: Record<string, number>;
  samples: number;
  seconds: number;
}

/** One tensor's place in tensors.bin (`offset` counts float32 values). */
export interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

/** The contents of checkpoint.json. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  family: string;
  model: BaseModelConfig;
  shape: DataShape;
  seed: number;
  parts: Partial<Record<PartName, TensorEntry[]>>;
  optimizers: { phase: string; step: number; moments: { m: TensorEntry; v: TensorEntry }[] }[];
  trainer: TrainerState;
  /**
   * Mid-epoch (`trainer.stepInEpoch` > 0): the epoch's training so far, so that a resumed run
   * reports the epoch's means over all its steps, not only those after the resume.
   */
  epochSoFar?: EpochSoFar;
  savedAt: string;
}

/** The float32 values tensors.bin must hold for `manifest`: up to the end of its last tensor. */
export function tensorValues(manifest: CheckpointManifest): number {
  const entries = [...Object.values(manifest.parts).flat(), ...manifest.optimizers.flatMap((o) => o.moments.flatMap(({ m, v }) => [m, v]))];
  return entries.reduce((end, e) => Math.max(end, e.offset + e.shape.reduce((a, b) => a * b, 1)), 0);
}

/**
 * A checkpoint folder's manifest, checked: JSON, the format, a version this aekit reads.
 * @throws AekitError FILE_NOT_FOUND when there is none, BAD_CHECKPOINT naming the file otherwise.
 */
export async function readManifest(dir: string): Promise<CheckpointManifest> {
  const file = path.join(dir, CHECKPOINT_FILES.manifest);
  const manifest = (await readJsonFile(file, { what: 'checkpoint manifest', invalidCode: 'BAD_CHECKPOINT', object: true })) as CheckpointManifest;
  if (manifest.format !== CHECKPOINT_FORMAT) {
    throw new AekitError('BAD_CHECKPOINT', `format is '${String(manifest.format)}', expected '${CHECKPOINT_FORMAT}'`, { where: file });
  }
  if (!(manifest.version <= CHECKPOINT_VERSION)) {
    throw new AekitError('BAD_CHECKPOINT', `version ${manifest.version} is newer than this aekit reads (${CHECKPOINT_VERSION})`, { where: file });
  }
  if (typeof manifest.trainer?.step !== 'number' || typeof manifest.parts !== 'object' || !Array.isArray(manifest.optimizers)) {
    throw new AekitError('BAD_CHECKPOINT', 'expected trainer, parts and optimizers fields', { where: file });
  }
  return manifest;
}

/**
 * Whether `dir` holds a whole checkpoint (a readable manifest and a tensors.bin of exactly the size
 * it describes): its manifest, or what is wrong, as a killed writer or a damaged disk leaves it.
 */
export async function inspectCheckpoint(dir: string): Promise<{ manifest: CheckpointManifest } | { problem: string }> {
  let manifest: CheckpointManifest;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    return { problem: error instanceof AekitError ? error.message : String(error) };
  }
  const file = path.join(dir, CHECKPOINT_FILES.tensors);
  const size = await fs.stat(file).then(
    (stat) => stat.size,
    () => undefined,
  );
  const expected = tensorValues(manifest) * 4;
  if (size === undefined) return { problem: `${file}: missing` };
  if (size !== expected) return { problem: `${file}: ${size} bytes, expected ${expected}` };
  return { manifest };
}

/** The manifest of `dir` when it holds a whole checkpoint, else undefined (see {@link inspectCheckpoint}). */
export async function wholeCheckpoint(dir: string): Promise<CheckpointManifest | undefined> {
  const inspected = await inspectCheckpoint(dir);
  return 'manifest' in inspected ? inspected.manifest : undefined;
}
