import { applyModel } from '../forward';
import { accuracy, softmaxCrossEntropy } from '../losses';
import { batchImages, batchOneHot } from './builder';
import type { StepBuilder } from './builder';

/** classifier (src/models/classifier.ts): softmax cross-entropy, accuracy logged. */
export const classifierStep: StepBuilder = (ctx) => {
  const x = batchImages(ctx);
  const oneHot = batchOneHot(ctx);
  const [logits] = applyModel(ctx.g, ctx.model.parts.classifier!, [x], ctx.params);
  const ce = softmaxCrossEntropy(ctx.g, logits, oneHot);
  return { loss: ce, terms: [{ name: 'total', value: ce }, { name: 'accuracy', value: accuracy(ctx.g, logits, oneHot) }], separable: true };
};
