/**
 * Shared by the `aekit latent` verbs: the image-source flags (one of --dataset, --data, --images)
 * and their schema, opening the encoder for the length of a verb, writing outputs, printing.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { writeFileAtomic } from '../../../core/atomic-write';
import { LATENT_DATASETS, openLatentModel } from '../../../eval/latent';
import type { LatentImageSource, LatentModel } from '../../../eval/latent';
import { intFlag } from '../../common';

/** Schema of the image-source flags that {@link withSource} adds (spread into a verb's schema). */
export const sourceShape = {
  dataset: z.enum(LATENT_DATASETS).optional(),
  data: z.string().min(1).optional(),
  images: z.array(z.string().min(1)).optional(),
  split: z.enum(['train', 'test']).default('test'),
  limit: intFlag.pipe(z.number().int().positive()).optional(),
  seed: intFlag.default(0),
  decoder: z.string().min(1).optional(),
};

/** A comma-separated list of numbers, e.g. `0,0.5,1`. */
export const numberList = z.string().transform((text, ctx) => {
  const values = text.split(',').map((t) => Number(t.trim()));
  if (text.trim() === '' || values.some((v) => !Number.isFinite(v))) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated numbers, got '${text}'` });
    return z.NEVER;
  }
  return values;
});

/** The parsed image-source flags. */
export type SourceFlags = { dataset?: (typeof LATENT_DATASETS)[number]; data?: string; images?: string[]; split: 'train' | 'test'; limit?: number; seed: number };

/** The library's image source for the parsed flags. */
export function imageSource(flags: SourceFlags): LatentImageSource {
  return { dataset: flags.dataset, folder: flags.data, files: flags.images, split: flags.split, limit: flags.limit, seed: flags.seed };
}

/** Add the image-source flags (one of --dataset, --data, --images) to a subcommand. */
export function withSource(command: Command, what: string): Command {
  return command
    .addOption(new Option('--dataset <name>', `${what} from a bundled data set`).choices([...LATENT_DATASETS]))
    .option('--data <folder>', `${what} from a folder of images (one subfolder per class)`)
    .option('--images <files...>', `${what} from image files`)
    .addOption(new Option('--split <split>', 'split of a bundled data set').choices(['train', 'test']).default('test'))
    .option('--limit <n>', 'use n images drawn at random (seeded)')
    .option('--seed <n>', 'seed of every random draw', '0')
    .option('--decoder <file.onnx>', 'the decoder (default: decoder.onnx next to the encoder)');
}

/** Open the model, run `body`, release the sessions. */
export async function withModel<T>(encoder: string, decoder: string | undefined, body: (model: LatentModel) => Promise<T>): Promise<T> {
  const model = await openLatentModel(encoder, { decoder });
  try {
    return await body(model);
  } finally {
    await model.release();
  }
}

/** Write an output file (its folder made first), replacing an existing one. */
export async function writeOutput(file: string, bytes: Uint8Array | string): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, bytes, { force: true });
}

/** Print a line of the verb's result on stdout. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
