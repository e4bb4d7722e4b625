/**
 * The step shared by the autoencoder families (src/models/ae.ts and its children ae, dae, vae,
 * cvae, sparse-ae): encode (with the label when the model is conditional), sample the code when
 * variational, decode, reconstruction loss plus the KL or the code penalties. Each family's file
 * here says which variant it is and adds what differs (dae's corruption, sparse-ae's penalty).
 */
import type { FamilyModel } from '../../../../models';
import type { PixelReduction, ReconstructionLoss } from '../../../../models/losses';
import { applyModel } from '../forward';
import type { TrainingGraph } from '../graph';
import { gaussianKl, reconstructionLoss } from '../losses';
import { batchImages, batchOneHot, betaWeightedLoss, stepInput } from './builder';
import type { StepBuilder, StepGraph } from './builder';

/** The config fields the autoencoder step reads (src/models/ae.ts autoencoderConfigSchema). */
interface AutoencoderLike {
  reconstruction: ReconstructionLoss;
  reduction: PixelReduction;
  latentSize: number;
}

/** Extra loss terms on a deterministic autoencoder's code (src/models/ae.ts `codePenalty`). */
export type CodePenalty = (g: TrainingGraph, model: FamilyModel, code: string) => { name: string; value: string }[];

/** The encoder's training-time input made from the clean batch `x` (src/models/ae.ts `trainingInput`). */
export type TrainingInput = (ctx: StepGraph, x: string) => string;

/** What an autoencoder family changes in the shared step. */
export interface AutoencoderVariant {
  /** Sample the code from N(mu, exp(logvar)) and add beta * KL (vae, cvae). */
  variational: boolean;
  trainingInput?: TrainingInput;
  codePenalty?: CodePenalty;
}

/** z = mu + exp(logvar / 2) * eps, eps drawn as the tfjs VAE draws it (src/models/vae.ts reparameterise). */
export function reparameterise(ctx: StepGraph, mu: string, logvar: string, latentSize: number): string {
  const { g } = ctx;
  const eps = stepInput(ctx, 'eps', [ctx.batchSize, latentSize], { kind: 'normal', mean: 0, std: 1 });
  const sigma = g.node('Exp', [g.node('Mul', [g.scalar(0.5), logvar], 'reparam/half_logvar')], 'reparam/sigma');
  return g.node('Add', [mu, g.node('Mul', [sigma, eps], 'reparam/noise')], 'reparam/z');
}

/** The step of an autoencoder family, as `variant` says. */
export function autoencoderStep(variant: AutoencoderVariant): StepBuilder {
  return (ctx) => {
    const { g, model, params } = ctx;
    const config = model.config as unknown as AutoencoderLike;
    const encoder = model.parts.encoder!;
    const decoder = model.parts.decoder!;
    const x = batchImages(ctx);
    const label = model.conditional ? batchOneHot(ctx) : undefined;
    const withLabel = (v: string) => (label ? [v, label] : [v]);
    const seen = variant.trainingInput ? variant.trainingInput(ctx, x) : x;
    const encoded = applyModel(g, encoder, withLabel(seen), params);
    let code = encoded[0];
    let kl: string | undefined;
    if (variant.variational) {
      const [mu, logvar] = encoded;
      code = reparameterise(ctx, mu, logvar, config.latentSize);
      kl = gaussianKl(g, mu, logvar);
    }
    const [reconstruction] = applyModel(g, decoder, withLabel(code), params);
    const rec = reconstructionLoss(g, config.reconstruction, x, reconstruction, config.reduction);
    if (!kl) {
      // As Autoencoder.loss: total = reconstruction + each penalty, terms in that order.
      const penalties = variant.codePenalty?.(g, model, code) ?? [];
      const total = penalties.reduce((sum, p) => g.node('Add', [sum, p.value], 'loss/total'), rec);
      // A code penalty (sparse-ae's) may weigh the batch's mean activation: not separable.
      return { loss: total, terms: [{ name: 'total', value: total }, { name: 'reconstruction', value: rec }, ...penalties], separable: !variant.codePenalty };
    }
    const beta = stepInput(ctx, 'beta', [], { kind: 'beta' });
    // Reconstruction and KL are batch means of per-image values (../losses.ts).
    return { ...betaWeightedLoss(g, rec, kl, beta), separable: true };
  };
}
