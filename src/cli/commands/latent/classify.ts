/** `aekit latent classify`: classifiers on the codes of one or more encoders vs on the pixels. */
import { Command } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../../core/errors';
import { DEFAULT_CLASSIFY_TEST_FRACTION, classifyMarkdown, classifyRepresentations } from '../../../eval/latent';
import { openLatentModels } from '../../../eval/latent/loading';
import { LATENT_CLASSIFIERS } from '../../../eval/metrics/latent-classifiers';
import type { LatentClassifierName } from '../../../eval/metrics/latent-classifiers';
import { numberFlag, parseOptions } from '../../common';
import { imageSource, loadSourceImages, requireLabelledSource, say, sourceShape, withSource, writeOutput } from './helpers';

const classifySchema = z.object({
  ...sourceShape,
  testFraction: numberFlag.pipe(z.number().gt(0).lt(1)).default(DEFAULT_CLASSIFY_TEST_FRACTION),
  classifiers: z.string().optional(),
  pixels: z.boolean().default(true),
  json: z.string().min(1).optional(),
});

/** The classifiers `--classifiers` names (undefined: all of them). */
function classifierList(text: string | undefined): LatentClassifierName[] | undefined {
  const classifiers = text?.split(',').map((c) => c.trim());
  const unknown = classifiers?.find((c) => !(LATENT_CLASSIFIERS as readonly string[]).includes(c));
  if (unknown) throw new AekitError('UNKNOWN_NAME', `unknown classifier '${unknown}'; expected some of: ${LATENT_CLASSIFIERS.join(', ')}`, { where: '--classifiers' });
  return classifiers as LatentClassifierName[] | undefined;
}

/** The `latent classify` subcommand. */
export function classifyCommand(): Command {
  return withSource(new Command('classify'), 'labelled images')
    .description('Classifiers (logistic regression, MLP, k-NN, random forest) on the codes of one or more encoders vs on the pixels, on a per-class train/test split.')
    .argument('<encoders...>', 'exported encoders (one table row each, all on the same split)')
    .option('--test-fraction <f>', `share of each class held out for testing (default ${DEFAULT_CLASSIFY_TEST_FRACTION})`)
    .option('--classifiers <list>', `comma-separated subset of ${LATENT_CLASSIFIERS.join(', ')}`)
    .option('--no-pixels', 'skip the pixel baseline')
    .option('--json <file>', 'also write the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent classify runs/zoo/runs/*/onnx/encoder.onnx --data ~/omniglot/images_background
  aekit latent classify runs/ae/onnx/encoder.onnx --dataset mnist --limit 3000 --classifiers knn,random-forest
  aekit latent classify runs/fashion-ae/onnx/encoder.onnx --dataset fashion-mnist --limit 3000`,
    )
    .action(async (encoders: string[], raw: Record<string, unknown>) => {
      const flags = parseOptions(classifySchema, raw);
      const classifiers = classifierList(flags.classifiers);
      const source = await imageSource(flags);
      // Before any model is opened or image decoded: classifiers need classes to tell apart.
      await requireLabelledSource(source, 'latent classification');
      const models = await openLatentModels(encoders, { decoder: flags.decoder });
      try {
        const images = await loadSourceImages(source, models[0].imageShape);
        const result = await classifyRepresentations(models, images, { testFraction: flags.testFraction, seed: flags.seed, classifiers, pixels: flags.pixels });
        say(`${result.numClasses} classes, ${result.trainCount} training and ${result.testCount} test images (per-class split)\n`);
        say(classifyMarkdown(result));
        if (flags.json) {
          await writeOutput(flags.json, JSON.stringify(result, null, 2) + '\n');
          say(`\nwritten: ${flags.json}`);
        }
      } finally {
        await Promise.all(models.map((m) => m.release()));
      }
    });
}
