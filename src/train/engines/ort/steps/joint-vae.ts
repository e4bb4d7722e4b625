import type { JointVaeConfig } from '../../../../models/joint-vae';
import { applyModel } from '../forward';
import { categoricalKlToUniform, gaussianKl, reconstructionLoss } from '../losses';
import { reparameterise } from './autoencoder';
import { batchImages, betaWeightedLoss, stepInput } from './builder';
import type { StepBuilder } from './builder';
import { gumbelSoftmaxSample } from './gumbel-vae';

/**
 * joint-vae (src/models/joint-vae.ts), relaxed samples: z = [Gaussian sample | Gumbel-softmax
 * sample], loss = reconstruction + beta * (Gaussian KL + categorical KL).
 */
export const jointVaeStep: StepBuilder = (ctx) => {
  const { g, params } = ctx;
  const config = ctx.model.config as unknown as JointVaeConfig;
  const { variables, classes } = config.categorical;
  const x = batchImages(ctx);
  const [mu, logvar, flatLogits] = applyModel(g, ctx.model.parts.encoder!, [x], params);
  const logits = g.node('Reshape', [flatLogits, g.ints([ctx.batchSize, variables, classes])], 'joint/logits');
  const continuous = reparameterise(ctx, mu, logvar, config.latentSize);
  // As JointVae.loss: the categorical noise comes from its own seed, derived from the step's.
  const { z: discrete, temperature } = gumbelSoftmaxSample(ctx, logits, config, 'categorical');
  const z = g.node('Concat', [continuous, discrete], 'joint/z', { axis: 1 });
  const [reconstruction] = applyModel(g, ctx.model.parts.decoder!, [z], params);
  const rec = reconstructionLoss(g, config.reconstruction, x, reconstruction, config.reduction);
  const klContinuous = gaussianKl(g, mu, logvar);
  const klDiscrete = categoricalKlToUniform(g, logits);
  const kl = g.node('Add', [klContinuous, klDiscrete], 'loss/kl');
  const beta = stepInput(ctx, 'beta', [], { kind: 'beta' });
  return betaWeightedLoss(g, rec, kl, beta, () => [
    { name: 'klContinuous', value: klContinuous },
    { name: 'klDiscrete', value: klDiscrete },
    { name: 'temperature', value: g.node('Identity', [temperature], 'loss/temperature') },
  ]);
};
