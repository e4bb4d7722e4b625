import type { tf } from '../../../../core/tfjs-backend';
import { applyModel } from '../forward';
import type { TrainingGraph } from '../graph';
import { logitBinaryCrossEntropy } from '../losses';
import { batchImages, stepInput } from './builder';
import type { StepBuilder } from './builder';

/** Mean probability of "real": D(x) and D(G(z)) as dcgan logs them. */
function meanProbability(g: TrainingGraph, logits: string): string {
  return g.node('ReduceMean', [g.node('Sigmoid', [logits], 'gan/p_real')], 'gan/mean_p_real', { keepdims: 0 });
}

/** src/models/dcgan.ts meanPairwiseDistance of a batch [B, ...] (a logged metric: not differentiated). */
function meanPairwiseDistance(g: TrainingGraph, images: string): string {
  const n = g.shape(images)[0];
  // Distances between whole images do not depend on the order of their pixels (NCHW here, NHWC in tfjs).
  const flat = g.node('Reshape', [images, g.ints([n, -1])], 'diversity/flat');
  const norms = g.node('ReduceSum', [g.node('Mul', [flat, flat], 'diversity/sq'), g.ints([1])], 'diversity/norms', { keepdims: 1 });
  const normsT = g.node('Transpose', [norms], 'diversity/norms_t', { perm: [1, 0] });
  const gram = g.node('Gemm', [flat, flat], 'diversity/gram', { transB: 1 });
  const squared = g.node('Relu', [g.node('Sub', [g.node('Add', [norms, normsT], 'diversity/norm_sum'), g.node('Mul', [gram, g.scalar(2)], 'diversity/gram2')], 'diversity/d2')], 'diversity/d2_pos');
  const total = g.node('ReduceSum', [g.node('Sqrt', [squared], 'diversity/d')], 'diversity/sum', { keepdims: 0 });
  return g.node('Div', [total, g.scalar(Math.max(1, n * (n - 1)))], 'diversity/mean');
}

/**
 * dcgan (src/models/dcgan.ts), two phases per step on the same z: the discriminator (BCE on real
 * -> 1 and fake -> 0), then the generator (non-saturating BCE on fake -> 1), each compiled into
 * its own graph; the second reads the first's updated weights and BatchNorm statistics.
 */
export const dcganStep: StepBuilder = (ctx, phase) => {
  const { g, params } = ctx;
  const model = ctx.model as unknown as { parts: { generator: tf.LayersModel; discriminator: tf.LayersModel }; latentSize: number };
  const x = batchImages(ctx);
  // As Dcgan.fakes: samplePrior(batch, Rng.derive(stepSeed, 'z')), the generator in training mode.
  const z = stepInput(ctx, 'z', [ctx.batchSize, model.latentSize], { kind: 'normal', mean: 0, std: 1, seedPath: 'z' });
  if (phase === 'discriminator') {
    const [realLogits] = applyModel(g, model.parts.discriminator, [x], params);
    const [fake] = applyModel(g, model.parts.generator, [z], params);
    const [fakeLogits] = applyModel(g, model.parts.discriminator, [fake], params);
    const total = g.node('Add', [logitBinaryCrossEntropy(g, realLogits, 1), logitBinaryCrossEntropy(g, fakeLogits, 0)], 'loss/total');
    return { loss: total, terms: [{ name: 'total', value: total }, { name: 'dReal', value: meanProbability(g, realLogits) }, { name: 'dFake', value: meanProbability(g, fakeLogits) }] };
  }
  if (phase !== 'generator') throw new Error(`engine 'ort': dcgan has no phase '${phase}'`);
  const [fake] = applyModel(g, model.parts.generator, [z], params);
  const [fakeLogits] = applyModel(g, model.parts.discriminator, [fake], params);
  const total = logitBinaryCrossEntropy(g, fakeLogits, 1);
  const diversity = g.node('Div', [meanPairwiseDistance(g, fake), g.node('Add', [meanPairwiseDistance(g, x), g.scalar(1e-12)], 'diversity/real_eps')], 'diversity');
  return { loss: total, terms: [{ name: 'total', value: total }, { name: 'dFake', value: meanProbability(g, fakeLogits) }, { name: 'diversity', value: diversity }] };
};
