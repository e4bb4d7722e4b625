import { ACTIVE_UNIT_THRESHOLD } from '../../../../models/beta-vae';
import type { BetaVae } from '../../../../models/beta-vae';
import { applyModel } from '../forward';
import { activeUnits, gaussianKlPerDimension, reconstructionLoss } from '../losses';
import { reparameterise } from './autoencoder';
import { batchImages, betaWeightedLoss, stepInput } from './builder';
import type { StepBuilder } from './builder';

/**
 * beta-vae (src/models/beta-vae.ts): reconstruction + beta_t * sum_d max(freeBits, KL_d), with the
 * model's own warmed-up beta_t fed each step; logs beta and the active units as tfjs does.
 */
export const betaVaeStep: StepBuilder = (ctx) => {
  const { g, params } = ctx;
  const model = ctx.model as unknown as BetaVae;
  const config = model.config;
  const x = batchImages(ctx);
  const [mu, logvar] = applyModel(g, model.parts.encoder!, [x], params);
  const [reconstruction] = applyModel(g, model.parts.decoder!, [reparameterise(ctx, mu, logvar, config.latentSize)], params);
  const rec = reconstructionLoss(g, config.reconstruction, x, reconstruction, config.reduction);
  const klPerDim = gaussianKlPerDimension(g, mu, logvar);
  const kl = g.node('ReduceSum', [klPerDim], 'loss/kl', { keepdims: 0 });
  const penalised = config.freeBits > 0 ? g.node('ReduceSum', [g.node('Max', [klPerDim, g.scalar(config.freeBits)], 'loss/free_bits')], 'loss/kl_floored', { keepdims: 0 }) : kl;
  const beta = stepInput(ctx, 'beta', [], { kind: 'stepScalar', value: (step) => model.betaAt(step.step) });
  return betaWeightedLoss(
    g,
    rec,
    kl,
    beta,
    () => [
      { name: 'beta', value: g.node('Identity', [beta], 'loss/beta') },
      { name: 'activeUnits', value: activeUnits(g, mu, ACTIVE_UNIT_THRESHOLD) },
    ],
    penalised,
  );
};
