/** `aekit latent vector`: an attribute vector, the difference of two groups' mean codes. */
import { Command } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../../core/errors';
import { attributeVector, selectGroups } from '../../../eval/latent';
import type { GroupRule } from '../../../eval/latent';
import { parseOptions } from '../../common';
import { imageSource, loadSourceImages, say, sourceShape, withModel, withSource, writeOutput } from './helpers';

const vectorSchema = z.object({
  ...sourceShape,
  groups: z.string().regex(/^[^,]+,[^,]+$/, "expected two folder names, e.g. 'smiling,sad'").optional(),
  labels: z.string().min(1).optional(),
  attribute: z.string().min(1).optional(),
  values: z.string().regex(/^[^,]+,[^,]+$/, "expected two values, e.g. 'yes,no'").optional(),
  out: z.string().min(1),
});

/** The groups the flags name: two folders (--groups), or two values of a CSV column (--labels, --attribute). */
function groupRule(flags: z.output<typeof vectorSchema>): GroupRule {
  if (flags.groups && !flags.labels) {
    const [a, b] = flags.groups.split(',').map((s) => s.trim());
    return { kind: 'folders', a, b };
  }
  if (flags.labels && flags.attribute && !flags.groups) {
    const [a, b] = flags.values ? flags.values.split(',').map((s) => s.trim()) : [undefined, undefined];
    return { kind: 'csv', file: flags.labels, column: flags.attribute, a, b };
  }
  throw new AekitError('BAD_ARGUMENT', 'give the groups either as --groups a,b (folder names) or as --labels file.csv --attribute column, not both');
}

/** The `latent vector` subcommand. */
export function vectorCommand(): Command {
  return withSource(new Command('vector'), 'images of both groups')
    .description('Attribute vector: mean code of group A minus mean code of group B, the groups given by folder names or a labels CSV.')
    .argument('<encoder.onnx>', 'exported encoder')
    .option('--groups <a,b>', 'two class folders of --data, e.g. smiling,sad')
    .option('--labels <file.csv>', 'labels CSV: header row, first column the file (relative to --data), one column per attribute')
    .option('--attribute <column>', 'the CSV column that forms the groups')
    .option('--values <a,b>', 'the CSV values of group A and B (default: sign of numbers, or yes/no)')
    .requiredOption('-o, --out <vector.json>', 'where to save the vector')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent vector runs/faces/onnx/encoder.onnx --data ~/faces --groups smiling,sad --out smile.json
  aekit latent vector runs/faces/onnx/encoder.onnx --data ~/lfw --labels lfw-attributes.csv --attribute Smiling --out smile.json
  aekit latent apply runs/faces/onnx/encoder.onnx --vector smile.json --images sad1.png sad2.png --out smiling.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(vectorSchema, raw);
      const rule = groupRule(flags);
      await withModel(encoder, flags.decoder, async (model) => {
        const images = await loadSourceImages(await imageSource(flags), model.imageShape);
        const vector = await attributeVector(model, images, await selectGroups(images, rule));
        await writeOutput(flags.out, JSON.stringify(vector, null, 1) + '\n');
        const norm = Math.sqrt(vector.vector.reduce((s, v) => s + v * v, 0));
        say(`vector '${vector.name}' from ${vector.counts.a} vs ${vector.counts.b} images: length ${norm.toFixed(3)} over ${vector.latentSize} dimensions`);
        say(`written: ${flags.out}`);
      });
    });
}
