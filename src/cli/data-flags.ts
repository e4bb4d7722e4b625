/**
 * The data-source flags every verb that reads images takes, parsed in one place into a
 * `DatasetSpec` (src/data/registry.ts): a named dataset (`--dataset`), an image folder (`--data`,
 * sized by `--image-size`/`--channels` where the verb does not take the model's size), an IDX pair
 * (`--idx`/`--idx-labels`, optionally test files), or a data config file (`--data-config`). Errors
 * name the flag and list the valid choices.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { readJsonFile } from '../core/json-file';
import type { Logger } from '../core/log';
import { formatFolderReport, observeFolderReads, skippedFileLines } from '../data/folder-report';
import { NAMED_DATASETS, isNamedDataset, parseDatasetSpec } from '../data/registry';
import type { DatasetSpec } from '../data/registry';
import type { FolderReadReport } from '../data/types';

/** Schema of the data flags (spread into a verb's option schema). */
export const dataFlagsShape = {
  dataset: z.string().min(1).optional(),
  data: z.string().min(1).optional(),
  imageSize: z.string().regex(/^\d+x\d+$/, 'expected HxW, e.g. 28x28').optional(),
  channels: z.enum(['1', '3'], { error: 'expected 1 (grayscale) or 3 (RGB)' }).optional(),
  idx: z.string().min(1).optional(),
  idxLabels: z.string().min(1).optional(),
  idxTestImages: z.string().min(1).optional(),
  idxTestLabels: z.string().min(1).optional(),
  idxTranspose: z.boolean().optional(),
  dataConfig: z.string().min(1).optional(),
};
/** The parsed data flags. */
export type DataFlags = z.output<z.ZodObject<typeof dataFlagsShape>>;

/** An image folder's size and channels. */
export interface FolderShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** Where `--data` without `--image-size` gets its size: the verb's defaults, or the model's (eval, latent). */
export type FolderSizing = { kind: 'flags'; defaults: string } | { kind: 'model' };

/**
 * Adds the data flags to `command`. With `sizing.kind` 'model' there is no `--image-size` or
 * `--channels`: the folder is read at the model's image size.
 */
export function addDataFlags(command: Command, sizing: FolderSizing): Command {
  command
    .option('--dataset <name>', `a dataset by name: ${NAMED_DATASETS.join(', ')} (fashion-mnist: Debian's dataset-fashion-mnist package)`)
    .option('--data <folder>', `a folder of PNG/JPEG images: one subfolder per class at any depth, or flat (unlabelled)${sizing.kind === 'model' ? ", read at the model's image size" : ''}`);
  if (sizing.kind === 'flags') {
    command.option('--image-size <HxW>', `image size for --data (default ${sizing.defaults})`).addOption(new Option('--channels <n>', 'channels for --data: 1 (grayscale) or 3 (RGB)'));
  }
  return command
    .option('--idx <images>', 'IDX image file (.gz or not), e.g. EMNIST or Fashion-MNIST files')
    .option('--idx-labels <labels>', 'IDX label file of --idx')
    .option('--idx-test-images <images>', 'IDX test images (default: a seeded 10% of --idx is held out)')
    .option('--idx-test-labels <labels>', 'IDX test labels')
    .option('--idx-transpose', "transpose every IDX image (EMNIST's column-major layout)")
    .option('--data-config <file.json>', 'a JSON file holding a dataset spec, e.g. {"name": "folder", "path": "faces", "height": 64, "width": 64, "channels": 3}; paths relative to the file');
}

/** The data a verb reads: a full spec, or a folder to read at the model's size. */
export type DataSource = { spec: DatasetSpec } | { folder: string };

const SOURCE_FLAGS = ['dataset', 'data', 'idx', 'dataConfig'] as const;

function describeSource(flag: (typeof SOURCE_FLAGS)[number], value: string): string {
  switch (flag) {
    case 'dataset':
      return `a dataset (--dataset ${value})`;
    case 'data':
      return `an image folder (--data ${value})`;
    case 'idx':
      return `IDX files (--idx ${value})`;
    default:
      return `a data config (--data-config ${value})`;
  }
}

function bad(message: string): AekitError {
  return new AekitError('BAD_ARGUMENT', message, { where: 'data source' });
}

/** Fails naming the flag when the path it gives does not exist (or is not a file/folder). */
function checkPath(flag: string, file: string, kind: 'file' | 'folder'): void {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new AekitError('FILE_NOT_FOUND', `${flag}: ${kind} not found: ${file}`);
  if (kind === 'folder' && !stat.isDirectory()) throw new AekitError('BAD_ARGUMENT', `${flag}: expected a folder of images, found a file: ${file}`);
  if (kind === 'file' && stat.isDirectory()) throw new AekitError('BAD_ARGUMENT', `${flag}: expected a file, found a folder: ${file}`);
}

function namedSpec(name: string): DatasetSpec {
  if (isNamedDataset(name)) return { name };
  const hint =
    name === 'idx' ? '; IDX files are given with --idx <images> --idx-labels <labels>' : name === 'folder' ? '; an image folder is given with --data <folder>' : '; for your own files use --data <folder>, --idx <images> --idx-labels <labels> or --data-config <file.json>';
  throw new AekitError('UNKNOWN_NAME', `--dataset: unknown dataset '${name}'; expected one of: ${NAMED_DATASETS.join(', ')}${hint}`);
}

function idxSpec(flags: DataFlags): DatasetSpec {
  const images = flags.idx as string;
  if (flags.idxLabels === undefined) throw bad(`--idx ${images} needs its labels: --idx-labels <labels>`);
  if ((flags.idxTestImages === undefined) !== (flags.idxTestLabels === undefined)) throw bad('give both --idx-test-images and --idx-test-labels, or neither');
  const files: [string, string | undefined][] = [
    ['--idx', images],
    ['--idx-labels', flags.idxLabels],
    ['--idx-test-images', flags.idxTestImages],
    ['--idx-test-labels', flags.idxTestLabels],
  ];
  for (const [flag, file] of files) if (file !== undefined) checkPath(flag, file, 'file');
  return {
    name: 'idx',
    images,
    labels: flags.idxLabels,
    ...(flags.idxTestImages !== undefined ? { testImages: flags.idxTestImages, testLabels: flags.idxTestLabels } : {}),
    ...(flags.idxTranspose ? { transpose: true } : {}),
  };
}

/** A dataset spec from a JSON file; relative paths in it are relative to the file's folder. */
async function configSpec(file: string): Promise<DatasetSpec> {
  checkPath('--data-config', file, 'file');
  const value = await readJsonFile(file, { what: 'data config file' });
  const spec = parseDatasetSpec(value, `--data-config ${file}`);
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string) => path.resolve(dir, p);
  switch (spec.name) {
    case 'folder':
      return { ...spec, path: resolve(spec.path) };
    case 'idx':
      return {
        ...spec,
        images: resolve(spec.images),
        labels: resolve(spec.labels),
        ...(spec.testImages !== undefined && spec.testLabels !== undefined ? { testImages: resolve(spec.testImages), testLabels: resolve(spec.testLabels) } : {}),
      };
    default:
      return spec;
  }
}

/** The size and channels given by --image-size / --channels over `base`. */
function folderShape(flags: DataFlags, base: FolderShape): FolderShape {
  const [height, width] = flags.imageSize ? flags.imageSize.split('x').map(Number) : [base.height, base.width];
  if (height < 1 || width < 1) throw bad(`--image-size: height and width must be at least 1, got ${flags.imageSize}`);
  return { height, width, channels: flags.channels ? (Number(flags.channels) as 1 | 3) : base.channels };
}

/**
 * The data the flags choose (undefined when they choose none). At most one source may be given;
 * the modifiers need their source (--idx-labels needs --idx; --image-size and --channels need an
 * image folder). With `folder` the verb sizes image folders itself: `--data` gets `folder.defaults`
 * (or, without a size flag and `folder.current` a folder spec, that spec's size), and size flags
 * alone resize `folder.current`. Without `folder`, `--data` comes back as a folder to read at the
 * model's size.
 * @throws AekitError BAD_ARGUMENT / UNKNOWN_NAME / FILE_NOT_FOUND naming the flag.
 */
export async function dataSourceFromFlags(flags: DataFlags, folder?: { defaults: FolderShape; current?: DatasetSpec }): Promise<DataSource | undefined> {
  const given = SOURCE_FLAGS.filter((flag) => flags[flag] !== undefined);
  if (given.length > 1) throw bad(`give ${given.map((f) => describeSource(f, flags[f] as string)).join(' or ')}, not ${given.length === 2 ? 'both' : 'several'}`);
  for (const flag of ['idxLabels', 'idxTestImages', 'idxTestLabels', 'idxTranspose'] as const) {
    if (flags[flag] !== undefined && flags.idx === undefined) throw bad(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --idx <images>`);
  }
  const sizeFlags = flags.imageSize !== undefined || flags.channels !== undefined;
  const source = given[0];
  if (source === 'data') {
    const dir = flags.data as string;
    checkPath('--data', dir, 'folder');
    if (!folder) return { folder: dir };
    const base = folder.current?.name === 'folder' ? folder.current : folder.defaults;
    return { spec: { name: 'folder', path: dir, ...folderShape(flags, base) } };
  }
  if (source === undefined && !sizeFlags) return undefined;
  const spec = source === 'dataset' ? namedSpec(flags.dataset as string) : source === 'idx' ? idxSpec(flags) : source === 'dataConfig' ? await configSpec(flags.dataConfig as string) : folder?.current;
  if (sizeFlags) {
    if (spec?.name !== 'folder') {
      const what = spec ? `dataset '${spec.name}'` : 'no dataset';
      throw bad(`--image-size and --channels apply to an image folder (--data <folder>), not to ${what}`);
    }
    return { spec: { ...spec, ...folderShape(flags, spec) } };
  }
  return { spec: spec as DatasetSpec };
}

/** The line a folder read is reported with (AEKIT_LOG=debug adds one line per skipped file). */
export function logFolderRead(logger: Logger, report: FolderReadReport): void {
  logger.info(formatFolderReport(report) + (report.skippedFiles.length > 0 ? ' (AEKIT_LOG=debug lists them)' : ''));
  for (const line of skippedFileLines(report)) logger.debug(`skipped ${path.join(report.root, line)}`);
}

/**
 * Runs `body`, printing one line for every image folder read inside it, as it is read (however
 * deep: the trainer loads its data itself).
 */
export function reportingFolderReads<T>(logger: Logger, body: () => Promise<T>): Promise<T> {
  return observeFolderReads((report) => logFolderRead(logger, report), body);
}
