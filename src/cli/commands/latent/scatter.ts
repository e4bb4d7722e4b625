/** `aekit latent scatter`: the codes of images in 2-D, coloured by class. */
import { Command } from 'commander';
import { z } from 'zod';
import { codeScatter } from '../../../eval/latent/figures';
import { intFlag, parseOptions } from '../../common';
import { imageSource, loadSourceImages, say, sourceShape, withModel, withSource, writeOutput } from './helpers';

const scatterSchema = z.object({
  ...sourceShape,
  limit: intFlag.pipe(z.number().int().positive()).default(2000),
  title: z.string().optional(),
  out: z.string().min(1),
});

/** The `latent scatter` subcommand. */
export function scatterCommand(): Command {
  return withSource(new Command('scatter'), 'images to plot')
    .description('Scatter plot of the codes of images coloured by class (2-D codes as they are, larger ones on their first two principal components).')
    .argument('<encoder.onnx>', 'exported encoder')
    .option('--title <text>', 'chart title')
    .requiredOption('-o, --out <file.png>', 'the plot')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent scatter runs/vae-2d/onnx/encoder.onnx --dataset mnist --limit 2000 --out scatter.png
  aekit latent scatter runs/ae/onnx/encoder.onnx --data ~/omniglot-mini --out omniglot-codes.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(scatterSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const images = await loadSourceImages(await imageSource(flags), model.imageShape);
        const { png, projection, size } = await codeScatter(model, images, { title: flags.title });
        await writeOutput(flags.out, png);
        say(`${images.count} codes of size ${size}${projection.method === 'pca' ? `, first two principal components explain ${(100 * (projection.explained![0] + projection.explained![1])).toFixed(1)}% of the variance` : ''}`);
        say(`written: ${flags.out}`);
      });
    });
}
