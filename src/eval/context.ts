/**
 * The shared evaluation context: everything the metric runners (src/eval/runners) read, built once
 * per `evaluate` call. {@link EvalSetup} is the model, the data, the metrics asked for and their
 * counts; {@link EvalContext} adds the encodings several metrics share (test and training codes,
 * reconstructions), each computed once at the largest count any runner needs.
 */
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { Rng } from '../core/rng';
import type { ValueRange } from '../data/types';
import type { EvalMetric } from './applicability';
import type { EvalData } from './dataset';
import { fromArtifactImages } from './images';
import { LABEL_FREE_ENCODER_INPUT, labelFreeRow, oneHot } from './model-io';
import type { Encoded, ModelIo } from './model-io';
import type { RowProgress } from './onnx-session';
import { DEFAULT_ELBO_COUNT, DEFAULT_EVAL_COUNT, DEFAULT_LATENT_TEST_COUNT, DEFAULT_LATENT_TRAIN_COUNT } from './options';
import type { EvalFigures } from './report-types';
import type { StageTimer } from './stage-timer';

/** Rows each metric uses. */
export interface EvalCounts {
  /** Images per comparison (FID, SSIM, PSNR, accuracy, translation): the first `count` of each split. */
  count: number;
  /** Test images of the ELBO estimate. */
  elbo: number;
  /** Training rows of the latent classifiers (not capped by `count`: they train on training images). */
  latentTrain: number;
  /** Test rows of the latent classifiers. */
  latentTest: number;
}

/** The model, the data, the metrics to compute and their counts: known before anything is encoded. */
export interface EvalSetup extends EvalData {
  readonly logger: Logger;
  readonly stages: StageTimer;
  /** Seed of every random draw (prior samples, posterior samples, classifiers). */
  readonly seed: number;
  /** The metrics to compute, in report order. */
  readonly metrics: readonly EvalMetric[];
  /** Whether the report figures are drawn. */
  readonly drawFigures: boolean;
  readonly counts: EvalCounts;
  /** Values per image (height × width × channels). */
  readonly imageSize: number;
  /** Classes of the dataset (0 when unlabelled). */
  readonly numClasses: number;
  /** The first `counts.count` test images, NHWC in [0, 1]. */
  readonly testImages: Float32Array;
}

/** Rows of the shared encodings a runner needs (0 or absent: none). */
export interface EncodingNeeds {
  /** Codes of test images, a conditional encoder given each image's label (what a reconstruction decodes). */
  testCodes?: number;
  trainCodes?: number;
  /**
   * Codes that know nothing of the image's label: a conditional encoder is given
   * {@link LABEL_FREE_ENCODER_INPUT} instead (for unconditional encoders, the codes above).
   */
  labelFreeTestCodes?: number;
  labelFreeTrainCodes?: number;
  reconstructions?: number;
}

/** The setup with the encodings several runners share, and the figures they fill in. */
export interface EvalContext extends EvalSetup {
  /** Value range of the decoder's images ('unit' when there is none). */
  readonly generatorRange: ValueRange;
  /** The first {@link testEncodeCount} test images encoded, when any runner needs test codes. */
  readonly testCodes?: Encoded;
  readonly testEncodeCount: number;
  /** The first {@link trainEncodeCount} training images encoded, when any runner needs training codes. */
  readonly trainCodes?: Encoded;
  readonly trainEncodeCount: number;
  /** Codes of the first test / training images with no label given (see {@link EncodingNeeds.labelFreeTestCodes}). */
  readonly labelFreeTestCodes?: Encoded;
  readonly labelFreeTrainCodes?: Encoded;
  /** What a conditional encoder was given instead of the label for the label-free codes; undefined for an unconditional one. */
  readonly encoderLabelInput?: string;
  /** Test images reconstructed (0 when the model cannot reconstruct or nothing needs it). */
  readonly reconCount: number;
  /** The reconstructions, NCHW in {@link generatorRange}. */
  readonly reconstructionsNchw?: Float32Array;
  /** The reconstructions, NHWC in [0, 1]. */
  readonly reconstructions?: Float32Array;
  /** Images for the report figures; runners that draw some on the way (FID's samples, translations) add them here. */
  readonly figures: EvalFigures;
}

/**
 * Check an optional whole-number option.
 * @throws AekitError BAD_ARGUMENT naming the option.
 */
export function checkCount(value: number | undefined, name: string, min = 1): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new AekitError('BAD_ARGUMENT', `expected a whole number >= ${min}, found ${value}`, { where: name });
  }
}

/** The first `count` rows of `rowSize` values. */
export function rowsOf(data: Float32Array, rowSize: number, count: number): Float32Array {
  return data.subarray(0, count * rowSize);
}

/** The setup of an evaluation of `metrics` on `data`. */
export function planEvaluation(data: EvalData, metrics: readonly EvalMetric[], logger: Logger, stages: StageTimer): EvalSetup {
  const { options, test, train, shape } = data;
  const count = Math.min(options.count ?? DEFAULT_EVAL_COUNT, test.count, train.count);
  const counts: EvalCounts = {
    count,
    elbo: Math.min(options.elboCount ?? DEFAULT_ELBO_COUNT, count),
    // Not capped by `count` (which a small folder's test part caps): the classifiers train on training images.
    latentTrain: Math.min(options.latentTrainCount ?? Math.min(options.count ?? DEFAULT_EVAL_COUNT, DEFAULT_LATENT_TRAIN_COUNT), train.count),
    latentTest: Math.min(options.latentTestCount ?? Math.min(count, DEFAULT_LATENT_TEST_COUNT), test.count),
  };
  reportClamped(options, counts, test.count, train.count, logger);
  const imageSize = shape.height * shape.width * shape.channels;
  return {
    ...data,
    logger,
    stages,
    seed: options.seed ?? 0,
    metrics,
    drawFigures: options.figures !== false,
    counts,
    imageSize,
    numClasses: test.classNames.length,
    testImages: rowsOf(test.images, imageSize, count),
  };
}

/** Each count asked for that was cut down, with the count used and what limits it (the CLI flag in brackets). */
function reportClamped(options: EvalData['options'], counts: EvalCounts, testCount: number, trainCount: number, logger: Logger): void {
  const images = (n: number) => `${n.toLocaleString('en-US')} image${n === 1 ? '' : 's'}`;
  const asked: [number | undefined, number, string, string][] = [
    [options.count, counts.count, 'count (--n)', `the test split has ${images(testCount)}, the training split ${images(trainCount)}`],
    [options.elboCount, counts.elbo, 'elboCount (--elbo-n)', `at most the images per comparison, ${counts.count.toLocaleString('en-US')}`],
    [options.latentTrainCount, counts.latentTrain, 'latentTrainCount (--latent-n)', `the training split has ${images(trainCount)}`],
    [options.latentTestCount, counts.latentTest, 'latentTestCount (half of --latent-n)', `the test split has ${images(testCount)}`],
  ];
  for (const [wanted, used, name, why] of asked) {
    if (wanted !== undefined && used < wanted) logger.warn(`${name} ${wanted.toLocaleString('en-US')} is more than there is: using ${used.toLocaleString('en-US')} (${why})`);
  }
}

/**
 * Encode (and reconstruct) the rows the runners need, once each, at the largest count any of
 * them asked for: test codes, training codes, then reconstructions of the test images.
 */
export async function shareEncodings(setup: EvalSetup, needs: readonly EncodingNeeds[]): Promise<EvalContext> {
  const { io, stages, test, train, imageSize, shape } = setup;
  const most = (key: keyof EncodingNeeds) => Math.max(0, ...needs.map((n) => n[key] ?? 0));
  const reconCount = io.canReconstruct() ? most('reconstructions') : 0;
  // An unconditional encoder's codes know no label: the label-free codes are the same codes.
  const conditional = io.encoder !== undefined && io.labelWidth(io.encoder) > 0;
  const shared = (key: keyof EncodingNeeds) => (conditional ? 0 : most(key));
  const testEncodeCount = io.encoder ? Math.max(reconCount, most('testCodes'), shared('labelFreeTestCodes')) : 0;
  const trainEncodeCount = io.encoder ? Math.max(most('trainCodes'), shared('labelFreeTrainCodes')) : 0;
  const encode = (stage: string, images: Float32Array, labels: Int32Array | Float32Array, n: number) =>
    stages.timed(stage, () => io.encode(rowsOf(images, imageSize, n), n, labels, stages.progress(stage)));
  const testCodes = testEncodeCount > 0 ? await encode('encode test images', test.images, test.labels, testEncodeCount) : undefined;
  const trainCodes = trainEncodeCount > 0 ? await encode('encode training images', train.images, train.labels, trainEncodeCount) : undefined;
  let labelFree: Pick<EvalContext, 'labelFreeTestCodes' | 'labelFreeTrainCodes' | 'encoderLabelInput'> = { labelFreeTestCodes: testCodes, labelFreeTrainCodes: trainCodes };
  if (conditional) {
    const row = labelFreeRow(train.labels, io.labelWidth(io.encoder));
    const [nTest, nTrain] = [most('labelFreeTestCodes'), most('labelFreeTrainCodes')];
    labelFree = {
      labelFreeTestCodes: nTest > 0 ? await encode('encode test images without labels', test.images, row, nTest) : undefined,
      labelFreeTrainCodes: nTrain > 0 ? await encode('encode training images without labels', train.images, row, nTrain) : undefined,
      encoderLabelInput: LABEL_FREE_ENCODER_INPUT,
    };
  }
  const generatorRange = io.generator?.info.valueRange ?? 'unit';
  let reconstructionsNchw: Float32Array | undefined;
  if (reconCount > 0 && testCodes?.code) {
    const codes = testCodes.code;
    const size = codes.length / testEncodeCount;
    const labels = labelRowsFor(io, test.labels.subarray(0, reconCount), setup.numClasses);
    reconstructionsNchw = await stages.timed('reconstruct test images', () => io.decode(rowsOf(codes, size, reconCount), reconCount, labels, stages.progress('reconstruct test images')));
  }
  const reconstructions = reconstructionsNchw ? fromArtifactImages(reconstructionsNchw, reconCount, shape, generatorRange) : undefined;
  return { ...setup, generatorRange, testCodes, testEncodeCount, trainCodes, trainEncodeCount, ...labelFree, reconCount, reconstructionsNchw, reconstructions, figures: { shape } };
}

/** One-hot label rows when the decoder is conditional, else undefined. */
export function labelRowsFor(io: ModelIo, labels: Int32Array, numClasses: number): Float32Array | undefined {
  const width = io.labelWidth(io.generator);
  if (width === 0) return undefined;
  if (width !== numClasses) {
    throw new AekitError('BAD_ARGUMENT', `the conditional decoder takes ${width} classes, the dataset has ${numClasses}`, { where: `${io.generator!.path}: aekit.numClasses` });
  }
  return oneHot(labels, width);
}

/**
 * `n` prior samples through the decoder, NCHW in the decoder's range, from the stream (seed,
 * 'eval', 'samples'): the same seed draws the same samples for FID and for the sample grid.
 */
export async function generateSamples(ctx: EvalContext, n: number, onRows: RowProgress): Promise<Float32Array> {
  const { io, numClasses } = ctx;
  const codes = ctx.trainCodes?.code;
  const prior = io.prior(codes ? { codes, count: ctx.trainEncodeCount } : undefined);
  const rng = Rng.derive(ctx.seed, 'eval', 'samples');
  const z = prior.sample(n, rng);
  const labels = new Int32Array(n).map(() => rng.int(Math.max(1, numClasses)));
  return io.decode(z, n, labelRowsFor(io, labels, numClasses), onRows);
}
