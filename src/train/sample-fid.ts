/**
 * FID tracked during training: a {@link SampleMetricsHook} that scores the images a model samples
 * from its prior at each epoch's end against real images of the run's dataset, with the features
 * of a feature network: the one given, else the shipped one for the dataset's image shape, as
 * `aekit eval` picks it (src/eval/features/shipped.ts); other shapes need one given. The DCGAN
 * study uses it to see training progress (and collapse) in one number per epoch; any family with
 * `samplePrior` and `decode` can use it.
 */
import { promises as fs } from 'node:fs';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { loadDataset } from '../data';
import { FeatureNetwork } from '../eval/features/network';
import { featureNetworkFor, shippedByFile } from '../eval/features/shipped';
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
  /** The feature network (an aekit classifier, Inception as ONNX; default: the shipped one for the dataset's image shape). */
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
 * Build the FID hook for a run config: picks and loads the feature network, checks that it takes
 * the dataset's image shape, and computes the reference statistics of the real images once.
 * @throws AekitError FILE_NOT_FOUND when the network is missing; BAD_ARGUMENT when none is given
 *   for a shape aekit ships none for, or when it cannot take the dataset's images; BAD_CONFIG for
 *   an invalid run config.
 */
export async function trainingFid(configInput: unknown, options: TrainingFidOptions = {}): Promise<TrainingFid> {
  const config = resolveRunConfig(configInput);
  const logger = options.logger ?? silentLogger;
  const real = await loadDataset(config.data.dataset, 'test', config.train.seed);
  const shape = { height: real.height, width: real.width, channels: real.channels };
  // The network eval would pick for this shape; the messages name the train flag.
  const file = featureNetworkFor(shape, options.classifier, '--fid <net.onnx>');
  await fs.access(file).catch(() => {
    const shipped = options.classifier === undefined ? shippedByFile(file) : undefined;
    const hint = shipped ? `: the shipped ${shipped.name.replace(/^aekit's /, '')} is missing; pass another with --fid <classifier.onnx>` : '';
    throw new AekitError('FILE_NOT_FOUND', `FID classifier not found${hint}`, { where: file });
  });
  const net = await FeatureNetwork.load(file);
  try {
    net.checkShape(shape, 'the run\'s dataset (data.dataset)');
    const n = Math.min(real.count, options.realImages ?? TRAINING_FID_IMAGES);
    const pixels = real.height * real.width * real.channels;
    const reference = featureStats(await net.featuresOfData(real.images.subarray(0, n * pixels), n, shape), n, net.featureSize);
    logger.debug(`FID during training: ${options.samples ?? TRAINING_FID_IMAGES} samples per epoch against ${n} test images, features of ${file}`);
    return {
      count: options.samples ?? TRAINING_FID_IMAGES,
      compute: async (samples) => {
        const features = await net.featuresOfData(samples.images, samples.count, { height: samples.height, width: samples.width, channels: samples.channels });
        return { [TRAINING_FID_METRIC]: frechetDistance(reference, featureStats(features, samples.count, net.featureSize)) };
      },
      release: () => net.release(),
    };
  } catch (error) {
    await net.release();
    throw error;
  }
}
