/** `aekit latent sample`: codes drawn from a fitted distribution (or the prior), decoded into a grid. */
import { Command } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../../core/errors';
import { resolveDistribution } from '../../../eval/latent';
import type { LatentModel } from '../../../eval/latent';
import { sampleGrid } from '../../../eval/latent/figures';
import { intFlag, parseOptions } from '../../common';
import { numberList, say, withModel, writeOutput } from './helpers';

const sampleSchema = z.object({
  decoder: z.string().min(1).optional(),
  distribution: z.string().min(1).optional(),
  count: intFlag.pipe(z.number().int().positive()).default(64),
  classes: numberList.optional(),
  columns: intFlag.pipe(z.number().int().positive()).optional(),
  seed: intFlag.default(0),
  out: z.string().min(1),
});

/** Check `--classes` against the model: required by a conditional model, refused by any other. */
function checkClasses(model: LatentModel, classes: number[] | undefined, encoder: string): void {
  if (model.numClasses > 0 && !classes) throw new AekitError('BAD_ARGUMENT', `this ${model.family} is conditional: choose the classes to generate with --classes (0..${model.numClasses - 1})`, { where: encoder });
  const bad = classes?.find((c) => !Number.isInteger(c) || c < 0 || c >= model.numClasses);
  if (model.numClasses > 0 && bad !== undefined) throw new AekitError('BAD_ARGUMENT', `--classes: ${bad} is not a class of this model (0..${model.numClasses - 1})`, { where: encoder });
  if (model.numClasses === 0 && classes) throw new AekitError('BAD_ARGUMENT', `--classes needs a conditional model; this ${model.family} has no class input`, { where: encoder });
}

/** The `latent sample` subcommand. */
export function sampleCommand(): Command {
  return new Command('sample')
    .description('Draw codes from a fitted distribution (or the N(0, I) prior) and decode them into a PNG grid.')
    .argument('<encoder.onnx>', 'exported encoder (the decoder next to it decodes)')
    .option('--distribution <which>', "'gaussian' or 'gmm' (fitted next to the encoder), 'prior' (N(0, I)), or a file; default: the first fitted, else the prior of a VAE")
    .option('--count <n>', 'samples (default 64)')
    .option('--classes <list>', 'conditional models: classes to generate, e.g. 5,7 (count split evenly, one block of rows per class)')
    .option('--columns <n>', 'images per row (default: square grid, or one row per class)')
    .option('--seed <n>', 'seed of the draw', '0')
    .option('--decoder <file.onnx>', 'the decoder (default: decoder.onnx next to the encoder)')
    .requiredOption('-o, --out <file.png>', 'the grid')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent sample runs/ae/onnx/encoder.onnx --distribution gmm --count 64 --out gmm-samples.png
  aekit latent sample runs/vae/onnx/encoder.onnx --distribution prior --out prior-samples.png
  aekit latent sample runs/cvae/onnx/encoder.onnx --classes 5,7 --count 16 --out fives-and-sevens.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(sampleSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        checkClasses(model, flags.classes, encoder);
        const { distribution, from } = await resolveDistribution(model, flags.distribution);
        const grid = await sampleGrid(model, distribution, { count: flags.count, seed: flags.seed, classes: flags.classes, columns: flags.columns });
        await writeOutput(flags.out, grid.png);
        say(`${flags.count} samples from ${from}${flags.classes ? ` of classes ${flags.classes.join(', ')}` : ''}`);
        say(`written: ${flags.out}`);
      });
    });
}
