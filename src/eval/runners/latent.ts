/**
 * Classifiers trained on latent codes, against the same classifiers trained on pixels. The codes
 * are label-free: a conditional encoder (cvae) fed each image's true label would hand the
 * classifiers the answer (issue 15: 91% on codes against 80% on pixels after one epoch), so it is
 * given a label-free row instead (`LABEL_FREE_ENCODER_INPUT`), and the report says so.
 */
import type { EvalContext } from '../context';
import type { Encoded } from '../model-io';
import { LATENT_CLASSIFIERS, scoreClassifiers } from '../metrics/latent-classifiers';
import type { LatentReport } from '../report-types';
import type { MetricRunner } from './runner';

/** Latent classifiers on `counts.latentTrain` training and `counts.latentTest` test codes, and on the same images' pixels. */
export const latentRunner: MetricRunner = {
  metrics: ['latent'],
  needs: (setup) => ({ labelFreeTestCodes: setup.counts.latentTest, labelFreeTrainCodes: setup.counts.latentTrain }),
  async run(ctx) {
    const { labelFreeTestCodes, labelFreeTrainCodes } = ctx;
    if (!labelFreeTestCodes || !labelFreeTrainCodes) return {};
    return { latent: await ctx.stages.timed('latent classifiers', () => latentReport(ctx, labelFreeTestCodes, labelFreeTrainCodes)) };
  },
};

async function latentReport(ctx: EvalContext, testEnc: Encoded, trainEnc: Encoded): Promise<LatentReport> {
  const { test, train, imageSize, numClasses } = ctx;
  const { latentTrain, latentTest } = ctx.counts;
  const codeSize = testEnc.featureSize;
  const set = (features: Float32Array, labels: Int32Array, n: number, dim: number) => ({ features: features.subarray(0, n * dim), labels: labels.subarray(0, n), count: n, dim });
  const classifiers = ctx.options.latentClassifiers ?? LATENT_CLASSIFIERS;
  const common = { numClasses, seed: ctx.seed, classifiers };
  const progress = ctx.stages.progress('latent classifiers');
  progress(0, 2);
  const onCodes = await scoreClassifiers(set(trainEnc.features, train.labels, latentTrain, codeSize), set(testEnc.features, test.labels, latentTest, codeSize), common);
  progress(1, 2);
  const onPixels = await scoreClassifiers(set(train.images, train.labels, latentTrain, imageSize), set(test.images, test.labels, latentTest, imageSize), common);
  progress(2, 2);
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < latentTrain; i++) counts[train.labels[i]]++;
  const majority = counts.indexOf(Math.max(...counts));
  let hits = 0;
  for (let i = 0; i < latentTest; i++) if (test.labels[i] === majority) hits++;
  return {
    encoderLabel: ctx.encoderLabelInput ?? 'none: the encoder takes no label',
    trainCount: latentTrain,
    testCount: latentTest,
    codeSize,
    pixelSize: imageSize,
    chance: hits / latentTest,
    classifiers: onCodes.map((s, i) => ({ classifier: s.classifier, codes: s.accuracy, pixels: onPixels[i].accuracy })),
  };
}
