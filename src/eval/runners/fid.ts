/**
 * FID against the test split: of prior samples, of reconstructions, and of the training images
 * (real data, for scale), with the test and training statistics cached by classifier hash.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readArtifactInfo } from '../../artifact/onnx-io';
import type { FolderDataset, ImageDataset } from '../../data/types';
import { defaultCacheDir, sha256Text } from '../cache';
import { generateSamples, rowsOf } from '../context';
import type { EvalContext } from '../context';
import { DEFAULT_FID_CLASSIFIER, DEFAULT_FID_IMAGE_SHAPE, FidFeatureNet, referenceStats } from '../fid-features';
import { describeShape, fromArtifactImages, toArtifactImages } from '../images';
import type { ImageShape } from '../images';
import { featureStats, frechetDistance } from '../metrics/fid';
import type { FeatureStats } from '../metrics/fid';
import { FIGURE_SIZES } from '../options';
import type { FidReport } from '../report-types';
import type { MetricRunner } from './runner';

/** FID of samples and reconstructions, and train-vs-test FID, on the first `count` images of each split. */
export const fidRunner: MetricRunner = {
  metrics: ['fid'],
  dataProblem: (data) => fidShapeProblem(data.options.classifier ?? DEFAULT_FID_CLASSIFIER, data.shape),
  // A fitted prior is fitted to training codes.
  needs: (setup) => ({ reconstructions: setup.counts.count, trainCodes: setup.io.priorKind() === 'fitted-gaussian' ? setup.counts.count : 0 }),
  run: async (ctx) => ({ fid: await fidReport(ctx) }),
};

/**
 * Why FID cannot score images of `shape` with the feature network in `file` (undefined when it
 * can, or when the file cannot be read: loading it later reports that). FID's features come from
 * a classifier of one image shape (the shipped one is aekit's 28x28 grayscale MNIST classifier),
 * so other data needs a classifier trained on it.
 */
function fidShapeProblem(file: string, shape: ImageShape): string | undefined {
  const isDefault = path.resolve(file) === DEFAULT_FID_CLASSIFIER;
  let own: ImageShape | undefined;
  if (!existsSync(file)) {
    own = isDefault ? DEFAULT_FID_IMAGE_SHAPE : undefined;
  } else {
    try {
      own = readArtifactInfo(file).imageShape;
    } catch {
      return undefined;
    }
  }
  if (!own || (own.height === shape.height && own.width === shape.width && own.channels === shape.channels)) return undefined;
  const what = isDefault ? `aekit's MNIST classifier ${file}` : file;
  return `FID's feature network (${what}) takes ${describeShape(own)} images and the model's are ${describeShape(shape)}; pass a classifier artifact trained on images of this shape with --classifier`;
}

/** A description of a split that changes when the images do: an image folder's file list, hashed. */
function filesKey(data: ImageDataset): Record<string, string> {
  const files = (data as Partial<FolderDataset>).files;
  return files ? { files: sha256Text(files.join('\n')) } : {};
}

async function fidReport(ctx: EvalContext): Promise<FidReport> {
  const { options, spec, shape, test, train, imageSize, io, generatorRange, logger, stages } = ctx;
  const { count } = ctx.counts;
  const fidClassifier = options.classifier ?? DEFAULT_FID_CLASSIFIER;
  const net = await stages.timed('load FID classifier', () => FidFeatureNet.load(fidClassifier, { batchSize: options.batchSize, threads: options.threads, runtime: options.runtime }));
  try {
    net.checkShape(shape, `dataset '${spec.name}'`);
    const cacheDir = options.cacheDir ?? defaultCacheDir();
    // MNIST's splits are fixed files; other data is split (or tinted) with the data seed.
    const dataKey = (split: string, data: ImageDataset) => ({ data: { dataset: spec, split, count, seed: spec.name === 'mnist' ? 0 : ctx.dataSeed, ...filesKey(data) } });
    const statsOf = (stage: string, unitNhwc: Float32Array) => async (): Promise<FeatureStats> =>
      featureStats(await net.features(toArtifactImages(unitNhwc, count, shape, 'unit'), count, 'unit', stages.progress(stage)), count, net.featureSize);
    const reference = await stages.timed('FID test statistics', () => referenceStats(net, dataKey('test', test), cacheDir, statsOf('FID features of test images', ctx.testImages), logger));
    logger.info(`FID test statistics ${reference.cached ? 'read from' : 'cached in'} ${reference.file}`);
    const trainStats = await stages.timed('FID training statistics', () =>
      referenceStats(net, dataKey('train', train), cacheDir, statsOf('FID features of training images', rowsOf(train.images, imageSize, count)), logger),
    );
    const out: FidReport = {
      classifier: { path: net.model.path, sha256: net.sha256, featureSize: net.featureSize },
      reference: { cacheFile: reference.file, cached: reference.cached },
      count,
      trainVsTest: frechetDistance(trainStats.stats, reference.stats),
    };
    const priorKind = io.priorKind();
    if (priorKind) {
      const samples = await stages.timed(`generate ${count} samples`, () => generateSamples(ctx, count, stages.progress('generate samples')));
      if (ctx.drawFigures) {
        const n = Math.min(count, FIGURE_SIZES.samples);
        ctx.figures.samples = { images: fromArtifactImages(samples.subarray(0, FIGURE_SIZES.samples * imageSize), n, shape, generatorRange), count: n };
      }
      const stats = await stages.timed('FID of samples', async () => featureStats(await net.features(samples, count, generatorRange, stages.progress('FID features of samples')), count, net.featureSize));
      out.samples = frechetDistance(stats, reference.stats);
      out.prior = priorKind;
    } else {
      out.samplesSkipped = io.whyNoPrior();
    }
    const nchw = ctx.reconstructionsNchw;
    if (nchw && ctx.reconCount === count) {
      const stats = await stages.timed('FID of reconstructions', async () =>
        featureStats(await net.features(nchw, count, generatorRange, stages.progress('FID features of reconstructions')), count, net.featureSize),
      );
      out.reconstructions = frechetDistance(stats, reference.stats);
    }
    return out;
  } finally {
    await net.release();
  }
}
