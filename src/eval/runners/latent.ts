/** Classifiers trained on latent codes, against the same classifiers trained on pixels. */
import type { EvalContext } from '../context';
import type { Encoded } from '../model-io';
import { LATENT_CLASSIFIERS, scoreClassifiers } from '../metrics/latent-classifiers';
import type { LatentReport } from '../report-types';
import type { MetricRunner } from './runner';

/** Latent classifiers on `counts.latentTrain` training and `counts.latentTest` test codes, and on the same images' pixels. */
export const latentRunner: MetricRunner = {
  metrics: ['latent'],
  needs: (setup) => ({ testCodes: setup.counts.latentTest, trainCodes: setup.counts.latentTrain }),
  async run(ctx) {
    const { testCodes, trainCodes } = ctx;
    if (!testCodes || !trainCodes) return {};
    return { latent: await ctx.stages.timed('latent classifiers', () => latentReport(ctx, testCodes, trainCodes)) };
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
    trainCount: latentTrain,
    testCount: latentTest,
    codeSize,
    pixelSize: imageSize,
    chance: hits / latentTest,
    classifiers: onCodes.map((s, i) => ({ classifier: s.classifier, codes: s.accuracy, pixels: onPixels[i].accuracy })),
  };
}
