/**
 * Tiny trained models for eval tests: a run trained for one epoch on 300 MNIST images (about a
 * second) and exported, and a tiny MNIST classifier (about 2 s) exported as an FID feature network (the
 * shipped models/mnist-classifier.onnx is too slow to train in a test).
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { isAekitError } from '../../src/core/errors';
import type { EvalMetric } from '../../src/eval';
import type { FamilyEvalMetric } from '../../src/models';
import { exportRun } from '../../src/export/run-export';
import { train } from '../../src/train/trainer';

/** Images every tiny run trains on. */
export const TINY_TRAIN_IMAGES = 300;

/**
 * Train a tiny run of `family` into `<dir>/<name>` and export all its parts to `<run>/onnx`; by
 * default on 300 MNIST images, else on `data` (the run config's `data`, e.g. an image folder) with
 * the `train` settings given over the defaults.
 */
export async function tinyRun(dir: string, name: string, model: Record<string, unknown>, data?: Record<string, unknown>, trainSettings: Record<string, unknown> = {}): Promise<string> {
  await train({
    name,
    outDir: dir,
    model,
    data: data ?? { dataset: { name: 'mnist', limit: TINY_TRAIN_IMAGES } },
    train: { epochs: 1, batchSize: 50, backend: 'wasm', seed: 0, ...trainSettings },
  } as Parameters<typeof train>[0]);
  const runDir = path.join(dir, name);
  await exportRun(runDir, { out: path.join(runDir, 'onnx'), verify: false });
  return runDir;
}

/**
 * Train and export a tiny classifier (16 features) as `<dir>/classifier.onnx`: 5 epochs at lr 0.01
 * on 300 images (~2 s) reach about 50% test accuracy, enough for features that tell digits apart.
 */
export async function tinyClassifier(dir: string): Promise<string> {
  await train({
    name: 'fid-classifier',
    outDir: dir,
    model: { family: 'classifier', convChannels: [4, 8], featureSize: 16 },
    data: { dataset: { name: 'mnist', limit: TINY_TRAIN_IMAGES } },
    train: { epochs: 5, batchSize: 50, learningRate: 0.01, backend: 'wasm', seed: 0 },
  } as Parameters<typeof train>[0]);
  const file = path.join(dir, 'classifier.onnx');
  await exportRun(path.join(dir, 'fid-classifier'), { out: file, parts: ['classifier'], verify: false });
  return file;
}

/** A tiny MLP VAE (latent 4). */
export const TINY_VAE = { family: 'vae', architecture: 'mlp', hiddenSizes: [32], latentSize: 4 };
/** A tiny MLP AE (latent 4): sampled through a Gaussian fitted to its training codes. */
export const TINY_AE = { family: 'ae', architecture: 'mlp', hiddenSizes: [32], latentSize: 4 };

/** Assert that `promise` rejects with an AekitError of `code` whose message matches `pattern`. */
export async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isAekitError(error), String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

/** The report fields (eval metrics) behind each family metric; typed so a new family metric must be added here. */
export const EVAL_METRICS_OF: Readonly<Record<FamilyEvalMetric, readonly EvalMetric[]>> = {
  reconstruction: ['ssim', 'psnr'],
  elbo: ['elbo'],
  // KID scores the same features as FID: a family with FID has both.
  fid: ['fid', 'kid'],
  'latent-classifiers': ['latent'],
  accuracy: ['accuracy'],
  translation: ['translation'],
};
