import { BCE_EPSILON } from '../../../../models/losses';
import type { SparseAeConfig } from '../../../../models/sparse-ae';
import { autoencoderStep } from './autoencoder';
import type { CodePenalty } from './autoencoder';
import type { StepBuilder } from './builder';

/** SparseAutoencoder.codePenalty: weighted Bernoulli KL or L1 of the code. */
const sparsityPenalty: CodePenalty = (g, model, code) => {
  const { sparsity } = model.config as unknown as SparseAeConfig;
  let penalty: string;
  if (sparsity.kind === 'kl') {
    // bernoulliKl(rho, mean over the batch of the code), with rhoHat clipped like BCE.
    const rhoHat = g.node('Clip', [g.node('ReduceMean', [code], 'sparsity/rho_hat', { axes: [0], keepdims: 0 }), g.scalar(BCE_EPSILON), g.scalar(1 - BCE_EPSILON)], 'sparsity/q');
    const rho = g.scalar(sparsity.rho);
    const oneMinusRho = g.scalar(1 - sparsity.rho);
    const a = g.node('Mul', [rho, g.node('Log', [g.node('Div', [rho, rhoHat], 'sparsity/ratio')], 'sparsity/log_ratio')], 'sparsity/a');
    const oneMinusQ = g.node('Sub', [g.scalar(1), rhoHat], 'sparsity/one_minus_q');
    const b = g.node('Mul', [oneMinusRho, g.node('Log', [g.node('Div', [oneMinusRho, oneMinusQ], 'sparsity/ratio_c')], 'sparsity/log_ratio_c')], 'sparsity/b');
    penalty = g.node('ReduceSum', [g.node('Add', [a, b], 'sparsity/kl_units')], 'sparsity/kl', { keepdims: 0 });
  } else {
    const perImage = g.node('ReduceSum', [g.node('Abs', [code], 'sparsity/abs'), g.ints([1])], 'sparsity/l1_rows', { keepdims: 0 });
    penalty = g.node('ReduceMean', [perImage], 'sparsity/l1', { keepdims: 0 });
  }
  return [{ name: 'sparsity', value: g.node('Mul', [g.scalar(sparsity.weight), penalty], 'sparsity') }];
};

/** The ort training step of `sparse-ae` (src/models/sparse-ae.ts): the shared autoencoder step (./autoencoder.ts) plus the sparsity penalty. */
export const sparseAeStep: StepBuilder = autoencoderStep({ variational: false, codePenalty: sparsityPenalty });
