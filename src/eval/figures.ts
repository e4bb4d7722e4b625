/**
 * The report figures that no metric draws on its way: original/reconstruction pairs, the sample
 * grid (when FID drew no samples), the 2-D scatter of test codes and an interpolation between
 * two test images of different classes.
 */
import { fromArtifactImages } from './images';
import { generateSamples } from './context';
import type { EncodingNeeds, EvalContext, EvalSetup } from './context';
import { projectTo2d } from './latent/scatter';
import { FIGURE_SIZES } from './options';

/** The shared encodings the figures read. */
export function figureNeeds(setup: EvalSetup): EncodingNeeds {
  const { count } = setup.counts;
  // The scatter is coloured by class: its codes must not have been given the class (cvae).
  return { reconstructions: Math.min(count, FIGURE_SIZES.pairs), testCodes: Math.min(count, FIGURE_SIZES.scatterPoints), labelFreeTestCodes: Math.min(count, FIGURE_SIZES.scatterPoints) };
}

/** Add the figures to `ctx.figures`. */
export async function drawFigures(ctx: EvalContext): Promise<void> {
  const { io, test, shape, imageSize, numClasses, figures, testCodes, testEncodeCount, generatorRange, labelFreeTestCodes } = ctx;
  const { count } = ctx.counts;
  if (ctx.reconstructions) {
    const pairs = Math.min(ctx.reconCount, FIGURE_SIZES.pairs);
    figures.reconstructions = { originals: ctx.testImages.slice(0, pairs * imageSize), reconstructions: ctx.reconstructions.slice(0, pairs * imageSize), count: pairs };
  }
  // A fitted prior needs training codes, encoded only when a metric needed them.
  const canSample = io.priorKind() !== undefined && (io.priorKind() !== 'fitted-gaussian' || ctx.trainCodes?.code !== undefined);
  if (!figures.samples && canSample) {
    const n = Math.min(count, FIGURE_SIZES.samples);
    figures.samples = { images: fromArtifactImages(await generateSamples(ctx, n, () => undefined), n, shape, generatorRange), count: n };
  }
  if (labelFreeTestCodes) {
    const scattered = labelFreeTestCodes;
    const n = Math.min(scattered.features.length / scattered.featureSize, FIGURE_SIZES.scatterPoints);
    // PCA needs three codes; fewer (a tiny folder's test split) get no scatter rather than an error.
    if (scattered.featureSize === 2 || n >= 3) {
      figures.latentScatter = { ...projectTo2d(scattered.features.subarray(0, n * scattered.featureSize), n, scattered.featureSize), labels: test.labels.slice(0, n), classNames: [...test.classNames] };
    }
  }
  const code = testCodes?.code;
  if (code && io.generator) {
    const size = code.length / testEncodeCount;
    // From the first test image to the first one of another class.
    const to = Math.max(1, test.labels.subarray(0, testEncodeCount).findIndex((l) => l !== test.labels[0]));
    if (to < testEncodeCount) {
      const steps = FIGURE_SIZES.interpolationSteps;
      const z = new Float32Array(steps * size);
      const labelRows = new Float32Array(steps * Math.max(1, numClasses));
      for (let s = 0; s < steps; s++) {
        const t = s / (steps - 1);
        for (let j = 0; j < size; j++) z[s * size + j] = (1 - t) * code[j] + t * code[to * size + j];
        // Conditional decoders get the label blended along with the code.
        if (numClasses > 0) {
          labelRows[s * numClasses + test.labels[0]] += 1 - t;
          labelRows[s * numClasses + test.labels[to]] += t;
        }
      }
      const images = await io.decode(z, steps, io.labelWidth(io.generator) > 0 ? labelRows : undefined);
      figures.interpolation = { images: fromArtifactImages(images, steps, shape, generatorRange), count: steps };
    }
  }
}
