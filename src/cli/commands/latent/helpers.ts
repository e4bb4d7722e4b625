/**
 * Shared by the `aekit latent` verbs: the image-source flags (the data flags every verb takes, or
 * --images) and their schema, opening the encoder for the length of a verb, writing outputs,
 * printing.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { writeFileAtomic } from '../../../core/atomic-write';
import { AekitError } from '../../../core/errors';
import { consoleLogger } from '../../../core/log';
import { datasetClasses, requireLabels } from '../../../data/labels';
import type { ImageShape } from '../../../eval/images';
import { loadLatentImages, openLatentModel } from '../../../eval/latent';
import type { LatentImageSource, LatentImages, LatentModel } from '../../../eval/latent';
import { intFlag } from '../../common';
import { observeFolderReads } from '../../../data/folder-report';
import type { FolderReadReport } from '../../../data/types';
import { addDataFlags, dataFlagsShape, dataSourceFromFlags, logFolderRead } from '../../data-flags';
import type { DataFlags } from '../../data-flags';

/** Schema of the image-source flags that {@link withSource} adds (spread into a verb's schema). */
export const sourceShape = {
  ...dataFlagsShape,
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
export type SourceFlags = DataFlags & { images?: string[]; split: 'train' | 'test'; limit?: number; seed: number };

/**
 * The library's image source for the parsed flags: one of the data flags' sources, or --images.
 * @throws AekitError BAD_ARGUMENT for --images together with a data flag; the data flags' errors.
 */
export async function imageSource(flags: SourceFlags): Promise<LatentImageSource> {
  const data = await dataSourceFromFlags(flags);
  if (data && flags.images) throw new AekitError('BAD_ARGUMENT', 'give the images with --images or with a data flag (--dataset, --data, --idx, --data-config), not both', { where: 'data source' });
  const common = { files: flags.images, split: flags.split, limit: flags.limit, seed: flags.seed };
  if (!data) return common;
  return 'spec' in data ? { ...common, dataset: data.spec } : { ...common, folder: data.folder };
}

/**
 * Refuses, before a model is opened or an image decoded, a source without the labels of at
 * least two classes (a flat folder, one class, loose image files), naming `consumer`.
 */
export async function requireLabelledSource(source: LatentImageSource, consumer: string): Promise<void> {
  if (source.files) throw new AekitError('BAD_DATA', `${consumer} needs labelled images of at least 2 classes; image files given with --images carry no class`);
  const spec = typeof source.dataset === 'object' ? source.dataset : source.folder !== undefined ? ({ name: 'folder', path: source.folder, height: 1, width: 1, channels: 1 } as const) : undefined;
  if (spec) requireLabels(await datasetClasses(spec), consumer);
}

/** Folders the running verb has read, printed by {@link withSource}'s hook once the verb has succeeded. */
const foldersRead: FolderReadReport[] = [];

/** The images of a source at the encoder's `shape` (the folders read are reported when the verb ends). */
export function loadSourceImages(source: LatentImageSource, shape: ImageShape): Promise<LatentImages> {
  return observeFolderReads((report) => foldersRead.push(report), () => loadLatentImages(source, shape));
}

/** One line per folder read (debug: per skipped file), after the verb's output. */
function printFoldersRead(): void {
  const logger = consoleLogger();
  for (const report of foldersRead.splice(0)) logFolderRead(logger, report);
}

/**
 * Add the image-source flags (the data flags, or --images) to a subcommand. The folders it reads
 * are reported once it has succeeded, so that a failure stays the one line saying what is wrong.
 */
export function withSource(command: Command, what: string): Command {
  return addDataFlags(command, { kind: 'model' })
    .hook('postAction', printFoldersRead)
    .option('--images <files...>', `${what} from image files`)
    .addOption(new Option('--split <split>', 'split of a named dataset or IDX files').choices(['train', 'test']).default('test'))
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
