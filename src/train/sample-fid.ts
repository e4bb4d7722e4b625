/**
 * FID tracked during training: a {@link SampleMetricsHook} that scores the images a model samples
 * from its prior at each epoch's end against real images of the run's dataset, with the features
 * of an aekit classifier artifact (the shipped models/mnist-classifier.onnx by default; see
 * src/eval/fid-features.ts). The DCGAN study uses it to see training progress (and collapse) in
 * one number per epoch; any family with `samplePrior` and `decode` can use it.
 */
import { promises as fs } from 'node:fs';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { loadDataset } from '../data';
import { DEFAULT_FID_CLASSIFIER, FidFeatureNet } from '../eval/fid-features';
import { featureStats, frechetDistance } from '../eval/metrics/fid';
import { resolveRunConfig } from '../run/config';
import type { SampleMetricsHook } from './epoch-report';

/**
 * Images per side of the FID during training: 1000 samples (the same codes every epoch) against
 * the first 1000 test images. FID is biased upwards at small counts, so the values compare
 * across the epochs of a run, not with FIDs computed from other counts (`aekit eval` uses more).
 */
export const TRAINING_FID_IMAGES = 1000;

/** Name of the metric in the epoch's validation record (metrics.jsonl). */
export const TRAINING_FID_METRIC = 'fid';

/** Options of {@link trainingFid}. */
export interface TrainingFidOptions {
  /** Classifier artifact whose `features` output is used (default: the shipped MNIST classifier). */
  classifier?: string;
  /** Sampled images scored each epoch (default {@link TRAINING_FID_IMAGES}). */
  samples?: number;
  /** Real images (from the test split of the run's dataset) of the reference statistics. */
  realImages?: number;
  logger?: Logger;
}

/** A sample-metrics hook holding an onnxruntime session: `release` it after training. */
export interface TrainingFid extends SampleMetricsHook {
  release(): Promise<void>;
}

/**
 * Build the FID hook for a run config: loads the classifier, checks that it takes the dataset's
 * image shape, and computes the reference statistics of the real images once.
 * @throws AekitError FILE_NOT_FOUND when the classifier is missing, BAD_ARGUMENT when its image
 *   shape differs from the dataset's, BAD_CONFIG for an invalid run config.
 */
export async function trainingFid(configInput: unknown, options: TrainingFidOptions = {}): Promise<TrainingFid> {
  const config = resolveRunConfig(configInput);
  const logger = options.logger ?? silentLogger;
  const file = options.classifier ?? DEFAULT_FID_CLASSIFIER;
  // Checked here so the hint names the train flag (eval's own message names `aekit eval --classifier`).
  await fs.access(file).catch(() => {
    const hint = options.classifier === undefined ? ': the shipped MNIST classifier is missing; pass another with --fid <classifier.onnx>' : '';
    throw new AekitError('FILE_NOT_FOUND', `FID classifier not found${hint}`, { where: file });
  });
  const net = await FidFeatureNet.load(file);
  try {
    const real = await loadDataset(config.data.dataset, 'test', config.train.seed);
    net.checkShape({ height: real.height, width: real.width, channels: real.channels }, 'the run\'s dataset (data.dataset)');
    const n = Math.min(real.count, options.realImages ?? TRAINING_FID_IMAGES);
    const pixels = real.height * real.width * real.channels;
    const reference = featureStats(await net.featuresOfData(real.images.subarray(0, n * pixels), n), n, net.featureSize);
    logger.debug(`FID during training: ${options.samples ?? TRAINING_FID_IMAGES} samples per epoch against ${n} test images`);
    return {
      count: options.samples ?? TRAINING_FID_IMAGES,
      compute: async (samples) => {
        const features = await net.featuresOfData(samples.images, samples.count);
        return { [TRAINING_FID_METRIC]: frechetDistance(reference, featureStats(features, samples.count, net.featureSize)) };
      },
      release: () => net.release(),
    };
  } catch (error) {
    await net.release();
    throw error;
  }
}
