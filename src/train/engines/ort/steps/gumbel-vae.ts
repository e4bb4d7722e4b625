/**
 * gumbel-vae (src/models/gumbel-vae.ts), and the Gumbel-softmax sample joint-vae shares: relaxed
 * (or straight-through) categorical codes with the temperature of the model's schedule.
 */
import { GUMBEL_EPSILON, temperatureAt } from '../../../../models/gumbel-vae';
import type { GumbelVaeConfig, TemperatureSchedule } from '../../../../models/gumbel-vae';
import { applyModel } from '../forward';
import { categoricalKlToUniform, reconstructionLoss } from '../losses';
import { batchImages, betaWeightedLoss, stepInput } from './builder';
import type { StepBuilder, StepGraph } from './builder';

/** The config fields of a Gumbel-softmax sample (gumbel-vae's and joint-vae's). */
export interface CategoricalLike {
  categorical: { variables: number; classes: number };
  temperature: TemperatureSchedule;
  hard: boolean;
}

/**
 * Gumbel-softmax samples of categorical logits [B, N, K] (src/models/gumbel-vae.ts gumbelSoftmax),
 * flattened to [B, N*K]: softmax((logits + Gumbel noise) / tau), with tau the model's schedule at
 * the step (fed each step) and the noise made in the graph from the uniform draw tfjs makes
 * (seeded with the step seed, or with `Rng.derive(stepSeed, seedPath)`). With `hard`, the
 * straight-through sample: the one-hot of each arg-max forward, the relaxed sample's gradient
 * backward, as soft + stopGradient(oneHot - soft).
 */
export function gumbelSoftmaxSample(ctx: StepGraph, logits: string, config: CategoricalLike, seedPath?: string): { z: string; temperature: string } {
  const { g } = ctx;
  const { variables, classes } = config.categorical;
  const u = stepInput(ctx, seedPath ? `uniform:${seedPath}` : 'uniform', [ctx.batchSize, variables, classes], { kind: 'uniform', seedPath });
  const eps = g.scalar(GUMBEL_EPSILON);
  const logU = g.node('Log', [g.node('Add', [u, eps], 'gumbel/u_eps')], 'gumbel/log_u');
  const noise = g.node('Neg', [g.node('Log', [g.node('Add', [g.node('Neg', [logU], 'gumbel/neg_log_u'), eps], 'gumbel/inner_eps')], 'gumbel/log_inner')], 'gumbel/noise');
  const temperature = stepInput(ctx, 'temperature', [], { kind: 'stepScalar', value: (step) => temperatureAt(config.temperature, step.step) });
  const soft = g.node('Softmax', [g.node('Div', [g.node('Add', [logits, noise], 'gumbel/perturbed'), temperature], 'gumbel/scaled')], 'gumbel/soft', { axis: -1 });
  let sample = soft;
  if (config.hard) {
    // One-hot of the arg-max (ties, which tf.argMax breaks by the first index, have probability 0).
    const max = g.node('ReduceMax', [soft], 'gumbel/max', { axes: [-1], keepdims: 1 });
    const oneHot = g.node('Cast', [g.node('Equal', [soft, max], 'gumbel/is_max')], 'gumbel/one_hot', { to: 1 });
    sample = g.node('Add', [soft, g.stopGradient(g.node('Sub', [oneHot, soft], 'gumbel/hard_minus_soft'))], 'gumbel/hard');
  }
  return { z: g.node('Reshape', [sample, g.ints([ctx.batchSize, variables * classes])], 'gumbel/z'), temperature };
}

/** gumbel-vae (src/models/gumbel-vae.ts), relaxed samples: reconstruction + beta * categorical KL. */
export const gumbelVaeStep: StepBuilder = (ctx) => {
  const { g, params } = ctx;
  const config = ctx.model.config as unknown as GumbelVaeConfig;
  const { variables, classes } = config.categorical;
  const x = batchImages(ctx);
  const [flatLogits] = applyModel(g, ctx.model.parts.encoder!, [x], params);
  const logits = g.node('Reshape', [flatLogits, g.ints([ctx.batchSize, variables, classes])], 'gumbel/logits');
  const { z, temperature } = gumbelSoftmaxSample(ctx, logits, config);
  const [reconstruction] = applyModel(g, ctx.model.parts.decoder!, [z], params);
  const rec = reconstructionLoss(g, config.reconstruction, x, reconstruction, config.reduction);
  const kl = categoricalKlToUniform(g, logits);
  const beta = stepInput(ctx, 'beta', [], { kind: 'beta' });
  return betaWeightedLoss(g, rec, kl, beta, () => [{ name: 'temperature', value: g.node('Identity', [temperature], 'loss/temperature') }]);
};
