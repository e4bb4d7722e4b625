/** `aekit latent interpolate`: walks between the codes of two images, as a PNG strip and a GIF. */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../../core/errors';
import { DEFAULT_INTERPOLATION_STEPS, interpolateImages, interpolationGif, loadLatentImages } from '../../../eval/latent';
import type { LatentImages, LatentModel } from '../../../eval/latent';
import { latentGridPng } from '../../../eval/latent/figures';
import { imagePairs } from '../../../eval/latent/loading';
import { intFlag, parseOptions } from '../../common';
import { imageSource, loadSourceImages, say, sourceShape, withModel, withSource, writeOutput } from './helpers';

const interpolateSchema = z.object({
  ...sourceShape,
  from: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  pairs: intFlag.pipe(z.number().int().positive()).default(4),
  steps: intFlag.pipe(z.number().int().min(2)).default(DEFAULT_INTERPOLATION_STEPS),
  method: z.enum(['linear', 'slerp']).default('linear'),
  label: intFlag.optional(),
  delay: intFlag.pipe(z.number().int().positive()).optional(),
  out: z.string().min(1),
  gif: z.string().min(1).optional(),
});
type InterpolateFlags = z.output<typeof interpolateSchema>;

/**
 * The class each walk of a conditional model is decoded with (undefined for other models): the
 * `--label` of every walk, else each pair's first image's class, which image files do not have.
 */
function walkLabels(model: LatentModel, from: LatentImages, label: number | undefined, encoder: string): ArrayLike<number> | undefined {
  if (model.numClasses === 0) {
    if (label !== undefined) throw new AekitError('BAD_ARGUMENT', `--label needs a conditional model; this ${model.family} has no class input`, { where: encoder });
    return undefined;
  }
  if (label !== undefined) {
    if (!Number.isInteger(label) || label < 0 || label >= model.numClasses) {
      throw new AekitError('BAD_ARGUMENT', `--label: ${label} is not a class of this model (0..${model.numClasses - 1})`, { where: encoder });
    }
    return new Int32Array(from.count).fill(label);
  }
  if (Array.from(from.labels).some((l) => l < 0)) {
    throw new AekitError('BAD_ARGUMENT', `this ${model.family} is conditional: give the class of the walk with --label (0..${model.numClasses - 1}); image files carry no class`, { where: encoder });
  }
  return from.labels;
}

/** The images the walks start and end at: the two files, or --pairs random pairs of a source. */
async function walkEnds(model: LatentModel, flags: InterpolateFlags): Promise<{ from: LatentImages; to: LatentImages }> {
  if (flags.from || flags.to) {
    if (!flags.from || !flags.to) throw new AekitError('BAD_ARGUMENT', 'give both --from and --to');
    return imagePairs(await loadLatentImages({ files: [flags.from, flags.to] }, model.imageShape));
  }
  return imagePairs(await loadSourceImages(await imageSource({ ...flags, limit: flags.pairs * 2 }), model.imageShape));
}

/** The `latent interpolate` subcommand. */
export function interpolateCommand(): Command {
  return withSource(new Command('interpolate'), 'random pairs of images')
    .description('Walk between the codes of two images and decode each step: a PNG strip (one row per pair) and, with --gif, an animation.')
    .argument('<encoder.onnx>', 'exported encoder')
    .option('--from <image>', 'first image file')
    .option('--to <image>', 'second image file')
    .option('--pairs <n>', 'random pairs from --dataset/--data (default 4)')
    .option('--steps <n>', `steps, both ends included (default ${DEFAULT_INTERPOLATION_STEPS})`)
    .addOption(new Option('--method <method>', 'straight line or great circle').choices(['linear', 'slerp']).default('linear'))
    .option('--label <class>', 'conditional models: the class every walk is decoded with (default: each pair\'s first image\'s class, from its folder; required for --from/--to files)')
    .option('--delay <ms>', 'GIF frame time in milliseconds (default 120)')
    .requiredOption('-o, --out <file.png>', 'the strip')
    .option('--gif <file.gif>', 'also write an animated GIF')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent interpolate runs/vae/onnx/encoder.onnx --dataset mnist --pairs 4 --out walk.png --gif walk.gif
  aekit latent interpolate runs/faces/onnx/encoder.onnx --from a.png --to b.png --steps 12 --method slerp --out a-to-b.png
  aekit latent interpolate runs/cvae/onnx/encoder.onnx --from a.png --to b.png --label 7 --out sevens.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(interpolateSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const { from, to } = await walkEnds(model, flags);
        const labels = walkLabels(model, from, flags.label, encoder);
        const walks = await interpolateImages(model, from.images, to.images, from.count, { steps: flags.steps, method: flags.method, labels });
        await writeOutput(flags.out, latentGridPng(walks, from.count * flags.steps, model.imageShape, flags.steps));
        say(`${from.count} walk${from.count > 1 ? 's' : ''} of ${flags.steps} steps (${flags.method})`);
        say(`written: ${flags.out}`);
        if (flags.gif) {
          await writeOutput(flags.gif, interpolationGif(walks, from.count, flags.steps, model.imageShape, flags.delay));
          say(`written: ${flags.gif}`);
        }
      });
    });
}
