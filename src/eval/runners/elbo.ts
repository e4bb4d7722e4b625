/** The ELBO split and the IWAE bound of a VAE on the first test images. */
import { toArtifactImages } from '../images';
import { labelRowsFor, rowsOf } from '../context';
import { DEFAULT_IWAE_SAMPLES, describeLikelihood, estimateElbo, likelihoodFor } from '../metrics/elbo';
import type { MetricRunner } from './runner';

/** ELBO and IWAE of the first `counts.elbo` test images, from their posterior (mu, logvar). */
export const elboRunner: MetricRunner = {
  metrics: ['elbo'],
  needs: (setup) => ({ testCodes: setup.counts.elbo }),
  async run(ctx) {
    const { io, test, shape, imageSize, numClasses } = ctx;
    const mu = ctx.testCodes?.mu;
    const logvar = ctx.testCodes?.logvar;
    if (!mu || !logvar) return {};
    const count = ctx.counts.elbo;
    const likelihood = likelihoodFor(io.generator!.metadata);
    const estimate = await ctx.stages.timed(`elbo (${count} images, K = ${ctx.options.iwaeSamples ?? DEFAULT_IWAE_SAMPLES})`, () =>
      estimateElbo({
        images: toArtifactImages(rowsOf(test.images, imageSize, count), count, shape, ctx.generatorRange),
        count,
        mu,
        logvar,
        latentSize: io.latentInput().size,
        likelihood,
        samples: ctx.options.iwaeSamples,
        seed: ctx.seed,
        decode: (z, imageOf) => io.decode(z, imageOf.length, labelRowsFor(io, imageOf.map((i) => test.labels[i]), numClasses)),
        onProgress: ctx.stages.progress('elbo'),
      }),
    );
    return { elbo: { ...estimate, likelihood: describeLikelihood(likelihood) } };
  },
};
