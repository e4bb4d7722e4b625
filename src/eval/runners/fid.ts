/**
 * FID and KID against the test split: of prior samples, of reconstructions, and of the training
 * images (real data at the same n, for scale), from one set of features per image set. The test
 * and training features and statistics are cached by feature network (hash and preprocessing).
 */
import { existsSync } from 'node:fs';
import type { FolderDataset, ImageDataset } from '../../data/types';
import { defaultCacheDir, sha256Text } from '../cache';
import { generateSamples, rowsOf } from '../context';
import type { EvalContext } from '../context';
import { datasetName } from '../dataset';
import type { EvalData } from '../dataset';
import { referenceStats } from '../fid-features';
import { FeatureNetwork } from '../features/network';
import type { FeatureNetworkOptions } from '../features/network';
import { inputProblem } from '../features/preprocess';
import { noShippedNetwork, shippedByFile, shippedFeatureNetwork } from '../features/shipped';
import { describeShape, fromArtifactImages } from '../images';
import type { ImageShape } from '../images';
import { featureStats, frechetDistance } from '../metrics/fid';
import type { FeatureStats } from '../metrics/fid';
import { kid } from '../metrics/kid';
import type { KidOptions } from '../metrics/kid';
import { FIGURE_SIZES } from '../options';
import type { EvaluateOptions } from '../options';
import type { FeatureNetworkReport, FidReport, KidReport, KidValue, MetricResults } from '../report-types';
import type { MetricRunner } from './runner';
import { wants } from './runner';

/**
 * Below this many images per side FID gets a warning: its bias (upwards, shrinking like 1/n)
 * makes values at different n incomparable. pytorch-fid's README advises at least 2,048 samples
 * (Inception's feature dimension) and issue 15 asks for 2,000; below the feature dimension the
 * covariances are singular as well.
 */
export const FID_RELIABLE_COUNT = 2000;

/** FID and KID of samples and reconstructions, and of training images, on the first `count` images of each split. */
export const fidRunner: MetricRunner = {
  metrics: ['fid', 'kid'],
  dataProblem: (data) => countProblem(data) ?? featureNetworkProblem(data.options, data.shape),
  // A fitted prior is fitted to training codes.
  needs: (setup) => ({ reconstructions: setup.counts.count, trainCodes: setup.io.priorKind() === 'fitted-gaussian' ? setup.counts.count : 0 }),
  run: (ctx) => scoreImages(ctx),
};

/** Why FID and KID cannot compare the data's splits: a covariance and KID's pairs need 2 images a side. */
function countProblem(data: EvalData): string | undefined {
  const [test, train] = [data.test.count, data.train.count];
  if (Math.min(test, train) >= 2) return undefined;
  const images = (n: number, split: string) => `${n} ${split} image${n === 1 ? '' : 's'}`;
  return `FID and KID need at least 2 images per side, and ${datasetName(data.spec)} has ${images(test, 'test')} and ${images(train, 'training')}`;
}

/** The feature network file of an evaluation: the one given, else the shipped one for the image shape. */
export function featureNetworkFile(options: Pick<EvaluateOptions, 'features' | 'classifier'>, shape: ImageShape): string | undefined {
  return options.features ?? options.classifier ?? shippedFeatureNetwork(shape)?.file;
}

/**
 * Why FID and KID cannot score images of `shape` (undefined when they can, or when the network
 * file cannot be read: loading it later reports that).
 */
function featureNetworkProblem(options: EvaluateOptions, shape: ImageShape): string | undefined {
  const file = featureNetworkFile(options, shape);
  if (!file) return noShippedNetwork(shape);
  if (!existsSync(file)) return undefined;
  let network: ReturnType<typeof FeatureNetwork.inspect>;
  try {
    network = FeatureNetwork.inspect(file, options.featurePreprocess);
  } catch {
    return undefined;
  }
  const input = { channels: network.channels, size: network.extraction.size, extraction: network.extraction };
  if (!inputProblem(input, shape)) return undefined;
  const shipped = shippedByFile(file);
  const own = network.extraction.resize === 'none' && network.extraction.size ? describeShape({ ...network.extraction.size, channels: network.channels }) : `${network.channels}-channel`;
  return `FID's feature network (${shipped ? `${shipped.name} ${file}` : file}) takes ${own} images and the model's are ${describeShape(shape)}; pass a feature network for images of this shape with --features`;
}

/** A description of a split that changes when the images do: an image folder's file list, hashed. */
function filesKey(data: ImageDataset): Record<string, string> {
  const files = (data as Partial<FolderDataset>).files;
  return files ? { files: sha256Text(files.join('\n')) } : {};
}

/** One compared image set: its features, and what each metric makes of them. */
interface Scored {
  stats: FeatureStats;
  features?: Float32Array;
}

async function scoreImages(ctx: EvalContext): Promise<MetricResults> {
  const { options, spec, shape, test, train, imageSize, io, generatorRange, logger, stages } = ctx;
  const { count } = ctx.counts;
  const withFid = wants(ctx, 'fid');
  const withKid = wants(ctx, 'kid');
  const file = featureNetworkFile(options, shape)!;
  const loadOptions: FeatureNetworkOptions = { threads: options.threads, runtime: options.runtime, preprocess: options.featurePreprocess, ...(options.batchSize ? { batchSize: options.batchSize } : {}) };
  const net = await stages.timed('load feature network', () => FeatureNetwork.load(file, loadOptions));
  try {
    net.checkShape(shape, `dataset '${spec.name}'`);
    const cacheDir = options.cacheDir ?? defaultCacheDir();
    // MNIST's splits are fixed files; other data is split (or tinted) with the data seed.
    const dataKey = (split: string, data: ImageDataset) => ({ data: { dataset: spec, split, count, seed: spec.name === 'mnist' ? 0 : ctx.dataSeed, ...filesKey(data) } });
    const featuresOf = (stage: string, images: Float32Array, layout: 'NCHW' | 'NHWC', range: 'unit' | 'symmetric') => net.features(images, count, shape, layout, range, stages.progress(stage));
    const score = async (stage: string, images: Float32Array, layout: 'NCHW' | 'NHWC', range: 'unit' | 'symmetric'): Promise<Scored> => {
      const features = await featuresOf(`features of ${stage}`, images, layout, range);
      return { stats: featureStats(features, count, net.featureSize), features };
    };
    const reference = await stages.timed('test features', () =>
      referenceStats(net, dataKey('test', test), cacheDir, () => featuresOf('features of test images', ctx.testImages, 'NHWC', 'unit'), logger, withKid),
    );
    logger.info(`FID test statistics ${reference.cached ? 'read from' : 'cached in'} ${reference.file}${withKid ? ' (with the features KID needs)' : ''}`);
    const trainRef = await stages.timed('training features', () =>
      referenceStats(net, dataKey('train', train), cacheDir, () => featuresOf('features of training images', rowsOf(train.images, imageSize, count), 'NHWC', 'unit'), logger, withKid),
    );
    const kidOptions: KidOptions = { subsets: options.kidSubsets, subsetSize: options.kidSubsetSize, seed: ctx.seed };
    const kidOf = async (a: Scored, what: string): Promise<KidValue> => {
      const result = await kid(a.features!, count, reference.features!, count, net.featureSize, { ...kidOptions, progress: stages.progress(`KID of ${what}`) });
      return { mean: result.mean, std: result.std };
    };

    let samples: Scored | undefined;
    const priorKind = io.priorKind();
    if (priorKind) {
      const generated = await stages.timed(`generate ${count} samples`, () => generateSamples(ctx, count, stages.progress('generate samples')));
      if (ctx.drawFigures) {
        const n = Math.min(count, FIGURE_SIZES.samples);
        ctx.figures.samples = { images: fromArtifactImages(generated.subarray(0, FIGURE_SIZES.samples * imageSize), n, shape, generatorRange), count: n };
      }
      samples = await stages.timed('features of samples', () => score('samples', generated, 'NCHW', generatorRange));
    }
    const nchw = ctx.reconstructionsNchw;
    const reconstructions = nchw && ctx.reconCount === count ? await stages.timed('features of reconstructions', () => score('reconstructions', nchw, 'NCHW', generatorRange)) : undefined;

    const results: MetricResults = {};
    if (withFid) {
      const fid: FidReport = {
        classifier: networkReport(net),
        reference: { cacheFile: reference.file, cached: reference.cached },
        count,
        trainVsTest: frechetDistance(trainRef.stats, reference.stats),
      };
      if (samples) {
        fid.samples = frechetDistance(samples.stats, reference.stats);
        fid.prior = priorKind;
      } else {
        fid.samplesSkipped = io.whyNoPrior();
      }
      if (reconstructions) fid.reconstructions = frechetDistance(reconstructions.stats, reference.stats);
      fid.smallSample = smallSampleWarning(count, net.featureSize, fid.trainVsTest, withKid);
      if (fid.smallSample) logger.warn(fid.smallSample);
      results.fid = fid;
    }
    if (withKid) {
      const report = await stages.timed('KID', async (): Promise<KidReport> => {
        const scale = await kid(trainRef.features!, count, reference.features!, count, net.featureSize, { ...kidOptions, progress: stages.progress('KID of training images') });
        const out: KidReport = { network: networkReport(net), count, subsets: scale.subsets, subsetSize: scale.subsetSize, trainVsTest: { mean: scale.mean, std: scale.std } };
        if (samples) out.samples = await kidOf(samples, 'samples');
        if (reconstructions) out.reconstructions = await kidOf(reconstructions, 'reconstructions');
        return out;
      });
      results.kid = report;
    }
    return results;
  } finally {
    await net.release();
  }
}

function networkReport(net: FeatureNetwork): FeatureNetworkReport {
  return { path: net.path, sha256: net.sha256, featureSize: net.featureSize, preprocess: net.extraction, declared: net.declared };
}

/**
 * The warning of an FID at `count` images per side when that is below the feature dimension or
 * {@link FID_RELIABLE_COUNT}, with the real-vs-real FID at the same count; undefined otherwise.
 */
export function smallSampleWarning(count: number, featureSize: number, realVsReal: number, kidReported: boolean): string | undefined {
  const reasons = smallSampleReasons(count, featureSize);
  if (!reasons) return undefined;
  const value = realVsReal < 1 ? realVsReal.toFixed(4) : realVsReal.toFixed(2);
  return (
    `FID at n = ${count} images per side (${reasons}) is biased upwards by an amount that depends on n: ` +
    `real images against real images score ${value} at this n (train vs test). Compare FIDs only at equal n, ` +
    `against that baseline; ${kidReported ? 'KID (reported beside it) is unbiased' : 'KID (--kid) is unbiased'} and is the number to trust at this n.`
  );
}

/**
 * Why FID at `count` images (per side) is not to be trusted: below {@link FID_RELIABLE_COUNT}, or
 * below the feature dimension (singular covariances); undefined when neither holds.
 */
export function smallSampleReasons(count: number, featureSize: number): string | undefined {
  const reasons = [count < FID_RELIABLE_COUNT ? `fewer than ${FID_RELIABLE_COUNT.toLocaleString('en-US')}` : '', count < featureSize ? `fewer than the ${featureSize} feature dimensions: singular covariances` : ''];
  return reasons.filter((r) => r !== '').join('; ') || undefined;
}
