/** Top-1 accuracy of a classifier artifact on the test images. */
import type { MetricRunner } from './runner';

/** Accuracy of the classifier's arg-max on the first `count` test images. */
export const accuracyRunner: MetricRunner = {
  metrics: ['accuracy'],
  async run(ctx) {
    const { count } = ctx.counts;
    const accuracy = await ctx.stages.timed('accuracy', async () => {
      const predicted = await ctx.io.classify(ctx.testImages, count, ctx.stages.progress('classify test images'));
      let hits = 0;
      for (let i = 0; i < count; i++) if (predicted[i] === ctx.test.labels[i]) hits++;
      return { mean: hits / count, count };
    });
    return { accuracy };
  },
};
