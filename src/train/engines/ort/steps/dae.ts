import type { DaeConfig } from '../../../../models/dae';
import { autoencoderStep } from './autoencoder';
import type { TrainingInput } from './autoencoder';
import { nchwInput } from './builder';
import type { StepBuilder } from './builder';

/** `dae`'s training-time corruption (DenoisingAutoencoder.trainingInput), the noise drawn outside the graph as tfjs draws it. */
const corrupt: TrainingInput = (ctx, x) => {
  const { g } = ctx;
  const { noise } = ctx.model.config as unknown as DaeConfig;
  const [low, high] = ctx.model.shape.valueRange === 'unit' ? [0, 1] : [-1, 1];
  if (noise.kind === 'gaussian') {
    const n = nchwInput(ctx, 'noise', { kind: 'normal', mean: 0, std: noise.level * (high - low) });
    return g.node('Clip', [g.node('Add', [x, n], 'dae/noisy'), g.scalar(low), g.scalar(high)], 'dae/corrupted');
  }
  const u = nchwInput(ctx, 'noise', { kind: 'uniform' });
  const masked = g.node('Less', [u, g.scalar(noise.kind === 'masking' ? noise.level : noise.level / 2)], 'dae/first');
  if (noise.kind === 'masking') return g.node('Where', [masked, g.scalar(low), x], 'dae/corrupted');
  const salt = g.node('Where', [masked, g.scalar(high), x], 'dae/salt');
  const pepper = g.node('And', [g.node('GreaterOrEqual', [u, g.scalar(noise.level / 2)], 'dae/ge'), g.node('Less', [u, g.scalar(noise.level)], 'dae/lt')], 'dae/pepper_mask');
  return g.node('Where', [pepper, g.scalar(low), salt], 'dae/corrupted');
};

/** The ort training step of `dae` (src/models/dae.ts): the shared autoencoder step (./autoencoder.ts) on a corrupted batch. */
export const daeStep: StepBuilder = autoencoderStep({ variational: false, trainingInput: corrupt });
