/** `aekit latent fit`: a Gaussian or a Gaussian mixture fitted to the codes of images. */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { DEFAULT_GMM_COMPONENTS, distributionPath, fitLatentDistribution, saveDistribution } from '../../../eval/latent';
import { intFlag, parseOptions } from '../../common';
import { imageSource, loadSourceImages, say, sourceShape, withModel, withSource } from './helpers';

const fitSchema = z.object({
  ...sourceShape,
  kind: z.enum(['gaussian', 'gmm']).default('gaussian'),
  components: intFlag.pipe(z.number().int().positive()).default(DEFAULT_GMM_COMPONENTS),
  covariance: z.enum(['full', 'diagonal']).default('full'),
  out: z.string().min(1).optional(),
});

/** The `latent fit` subcommand. */
export function fitCommand(): Command {
  return withSource(new Command('fit'), 'codes of images')
    .description('Fit a Gaussian (mean, covariance) or a Gaussian mixture (EM) to the codes of images; saved next to the encoder for `aekit latent sample`.')
    .argument('<encoder.onnx>', 'exported encoder')
    .addOption(new Option('--kind <kind>', 'distribution').choices(['gaussian', 'gmm']).default('gaussian'))
    .option('--components <n>', `GMM components (default ${DEFAULT_GMM_COMPONENTS})`)
    .addOption(new Option('--covariance <type>', 'covariance of each Gaussian').choices(['full', 'diagonal']).default('full'))
    .option('-o, --out <file.json>', 'where to save it (default: <encoder>.latent-<kind>.json next to the encoder)')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent fit runs/ae/onnx/encoder.onnx --dataset mnist --split train --limit 5000
  aekit latent fit runs/faces/onnx/encoder.onnx --data ~/lfw --kind gmm --components 8`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(fitSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const images = await loadSourceImages(await imageSource(flags), model.imageShape);
        const dist = await fitLatentDistribution(model, images, { kind: flags.kind, components: flags.components, covariance: flags.covariance, seed: flags.seed });
        const out = flags.out ?? distributionPath(encoder, flags.kind);
        await saveDistribution(dist, out);
        const em = dist.fit.iterations !== undefined ? `, ${dist.fit.iterations} EM iterations${dist.fit.converged ? '' : ' (not converged)'}` : '';
        say(`fitted a ${dist.kind} (${dist.components.length} component${dist.components.length > 1 ? 's' : ''}, ${dist.covarianceType} covariance) to ${dist.fit.count} codes of size ${dist.latentSize}: mean log-likelihood ${dist.fit.logLikelihood.toFixed(3)}${em}`);
        say(`written: ${out}`);
      });
    });
}
