/** `aekit latent apply`: an attribute vector added to the codes of images at several strengths. */
import { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_VECTOR_SCALES } from '../../../eval/latent';
import { attributeEditGrid } from '../../../eval/latent/figures';
import { loadAttributeVector } from '../../../eval/latent/loading';
import { parseOptions } from '../../common';
import { imageSource, loadSourceImages, numberList, say, sourceShape, withModel, withSource, writeOutput } from './helpers';

const applySchema = z.object({
  ...sourceShape,
  vector: z.string().min(1),
  scales: numberList.default([...DEFAULT_VECTOR_SCALES]),
  out: z.string().min(1),
});

/** The `latent apply` subcommand. */
export function applyCommand(): Command {
  return withSource(new Command('apply'), 'images to edit')
    .description('Add an attribute vector (from `aekit latent vector`) to the codes of images at several strengths and decode: one row per image.')
    .argument('<encoder.onnx>', 'exported encoder (the one the vector was made with)')
    .requiredOption('--vector <vector.json>', 'the attribute vector')
    .option('--scales <list>', `strengths, 0 = plain reconstruction (default ${DEFAULT_VECTOR_SCALES.join(',')})`)
    .requiredOption('-o, --out <file.png>', 'the grid: a row per image, a column per strength')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent apply runs/faces/onnx/encoder.onnx --vector smile.json --data ~/faces/sad --limit 8 --out smiling.png
  aekit latent apply runs/faces/onnx/encoder.onnx --vector smile.json --images a.png b.png --scales -1,0,1,2 --out edit.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(applySchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const vector = await loadAttributeVector(flags.vector, model);
        const images = await loadSourceImages(await imageSource(flags), model.imageShape);
        await writeOutput(flags.out, await attributeEditGrid(model, images, vector, flags.scales));
        say(`applied '${vector.name}' to ${images.count} images at strengths ${flags.scales.join(', ')} (first column: the input)`);
        say(`written: ${flags.out}`);
      });
    });
}
