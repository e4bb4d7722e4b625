import * as fs from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import { SKIP_REASONS } from './decode-types';
import { formatFolderReport, noteFolderRead, skippedFileLines } from './folder-report';
import { IMAGE_EXTENSIONS, scanFolder } from './folder-scan';
import type { ClassFolder } from './folder-scan';
import { decodeImage, toChannels } from './image-decode';
import type { DecodedImage, DecodeFailure } from './decode-types';
import { resizeImage } from './resize';
import type { FolderDataset, FolderReadReport, SkippedFile } from './types';
import { checkInt } from './validate';

/**
 * Datasets given as a folder of PNG/JPEG images, as people have them: one folder per class at any
 * depth (Omniglot's alphabet/character/*.png, LFW's person/*.jpg), or a flat folder of images
 * with no classes (a folder of cat faces). Hidden and system entries are passed over; other
 * files, and images that do not decode, are skipped and counted by reason in the dataset's
 * `report`, so one bad file never stops a long job and nothing is left out unsaid.
 */

/** Files read concurrently ahead of the one being decoded: overlaps disk with decoding. */
const READ_AHEAD = 8;

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** Target height; give it together with `width`. Without a size, all images must match. */
  height?: number;
  /** Target width; give it together with `height`. */
  width?: number;
  /** 1: grayscale (BT.601 luma); 3: RGB. Transparent pixels are composited on white first. */
  channels: 1 | 3;
  /**
   * Resize images to height x width (area averaging down, bilinear up; see `resizeImage`).
   * Default true when a size is given; when false, every image must already have that size.
   */
  resize?: boolean;
  /** Keep only the first N files (by name) of each class. */
  limitPerClass?: number;
  /** Receives the one-line summary (info) and one line per skipped file (debug). */
  logger?: Logger;
}

/** Outcome of reading one file: its bytes, or why they could not be read. */
type ReadOutcome = { ok: true; bytes: Buffer } | ({ ok: false } & DecodeFailure);

function readImageFile(file: string): Promise<ReadOutcome> {
  return fs.promises.readFile(file).then(
    (bytes): ReadOutcome => ({ ok: true, bytes }),
    (error: NodeJS.ErrnoException): ReadOutcome => ({ ok: false, reason: SKIP_REASONS.unreadable, kind: error.code, detail: error.message }),
  );
}

function checkOptions(root: string, opts: ImageFolderOptions): void {
  if (opts.channels !== 1 && opts.channels !== 3) {
    throw new AekitError('BAD_ARGUMENT', `channels must be 1 or 3, got ${String(opts.channels)}`, { where: root });
  }
  if ((opts.height === undefined) !== (opts.width === undefined)) {
    throw new AekitError('BAD_ARGUMENT', 'give both height and width, or neither', { where: root });
  }
  if (opts.height !== undefined) checkInt(opts.height, 'height', 1);
  if (opts.width !== undefined) checkInt(opts.width, 'width', 1);
  if (opts.limitPerClass !== undefined) checkInt(opts.limitPerClass, 'limitPerClass', 1);
  if (opts.resize === true && opts.height === undefined) {
    throw new AekitError('BAD_ARGUMENT', 'resize needs a target height and width', { where: root });
  }
}

/** Reasons and counts of a list of skipped files, in order of first appearance. */
function countReasons(skipped: readonly SkippedFile[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of skipped) counts[file.reason] = (counts[file.reason] ?? 0) + 1;
  return counts;
}

/** The scan's classes, with a clear error for a folder that has no usable layout. */
async function scanClasses(root: string): Promise<{ classes: ClassFolder[]; flat: boolean; skipped: SkippedFile[]; ignored: number }> {
  const stat = await fs.promises.stat(root).catch(() => undefined);
  if (!stat) throw new AekitError('FILE_NOT_FOUND', 'image folder not found', { where: root });
  if (!stat.isDirectory()) throw new AekitError('BAD_ARGUMENT', 'expected a folder of images, found a file', { where: root });
  const scan = await scanFolder(root).catch((error: Error) => {
    throw new AekitError('BAD_DATA', `cannot read the image folder: ${error.message}`, { where: root, cause: error });
  });
  if (scan.classes.length === 0) {
    const note = scan.skipped.length > 0 ? ` (skipped ${scan.skipped.length} other files, e.g. ${scan.skipped[0].file})` : '';
    throw new AekitError('BAD_DATA', `no images (${IMAGE_EXTENSIONS.join(', ')}) found under the folder${note}`, { where: root });
  }
  if (scan.emptyLeaves.length > 0) {
    const shown = scan.emptyLeaves.slice(0, 5).map((leaf) => path.join(root, leaf));
    const more = scan.emptyLeaves.length > shown.length ? ` and ${scan.emptyLeaves.length - shown.length} more` : '';
    throw new AekitError('BAD_DATA', `leaf folder without images (an empty class): ${shown.join(', ')}${more}`, { where: root });
  }
  return scan;
}

/**
 * Reads a folder of PNG/JPEG images into memory. Every folder that directly contains images is a
 * class, named by its path relative to `root` ('.' for images in the root beside class folders),
 * sorted by name (code-unit order) like the files within it, so indices are reproducible. A flat
 * folder (images only in the root) is one unlabelled set: labels -1, no class names.
 *
 * Hidden and system entries are passed over; other files (not images, GIF/BMP/WebP/..., files
 * that are truncated, corrupt or of a variant the decoders refuse) are skipped and counted in
 * `report` (see `SKIP_REASONS`), which is also handed to `observeFolderReads` and `logger`.
 * @throws AekitError FILE_NOT_FOUND if `root` is missing; BAD_DATA, naming the file or folder,
 *   for no images at all, a leaf folder without images, a class whose every image was skipped, or
 *   (without a target size, or with `resize: false`) an image whose size differs from the others.
 */
export async function loadImageFolder(root: string, opts: ImageFolderOptions): Promise<FolderDataset> {
  checkOptions(root, opts);
  const logger = opts.logger ?? silentLogger;
  const scan = await scanClasses(root);
  const candidates: { file: string; cls: number }[] = [];
  scan.classes.forEach((cls, index) => {
    for (const file of cls.files.slice(0, opts.limitPerClass ?? cls.files.length)) candidates.push({ file, cls: index });
  });

  const channels = opts.channels;
  const resize = opts.resize ?? opts.height !== undefined;
  let height = opts.height ?? 0;
  let width = opts.width ?? 0;
  let sizeSource = 'the requested size';
  let images: Float32Array | undefined;
  const files: string[] = [];
  const labels: number[] = [];
  const skipped: SkippedFile[] = [...scan.skipped];
  const pending = new Map<number, Promise<ReadOutcome>>();
  const fullPath = (i: number) => path.join(root, candidates[i].file);
  for (let i = 0; i < Math.min(READ_AHEAD, candidates.length); i++) pending.set(i, readImageFile(fullPath(i)));
  for (let i = 0; i < candidates.length; i++) {
    const file = fullPath(i);
    const read = await (pending.get(i) as Promise<ReadOutcome>);
    pending.delete(i);
    if (i + READ_AHEAD < candidates.length) pending.set(i + READ_AHEAD, readImageFile(fullPath(i + READ_AHEAD)));
    const decoded = read.ok ? decodeImage(read.bytes) : read;
    if (!decoded.ok) {
      skipped.push({ file: candidates[i].file, reason: decoded.reason, kind: decoded.kind, detail: decoded.detail });
      continue;
    }
    if (height === 0) {
      height = decoded.image.height;
      width = decoded.image.width;
      sizeSource = `the first image ${file}`;
    }
    // The whole set first: a size too large to hold is one error naming it, before a resize to it.
    if (!images) images = allocate(root, candidates.length, height, width, channels);
    const pixels = pixelsAt(decoded.image, channels, height, width, resize, file, sizeSource);
    const offset = files.length * height * width * channels;
    // Resampling can overshoot 1 by a rounding error; the dataset contract is [0, 1].
    for (let k = 0; k < pixels.length; k++) images[offset + k] = Math.min(1, Math.max(0, pixels[k]));
    files.push(candidates[i].file);
    labels.push(scan.flat ? -1 : candidates[i].cls);
  }

  const classNames = scan.flat ? [] : scan.classes.map((cls) => cls.name);
  const report: FolderReadReport = { root, read: files.length, classNames, skipped: countReasons(skipped), skippedFiles: skipped, ignored: scan.ignored };
  noteFolderRead(report);
  logger.info(formatFolderReport(report));
  for (const line of skippedFileLines(report)) logger.debug(`${root}: skipped ${line}`);
  checkEveryClassRead(root, scan.classes, labels, scan.flat, report);

  const size = height * width * channels;
  return {
    name: root,
    // Skipped files leave the end of the array unused; a view avoids copying the whole dataset.
    images: (images as Float32Array).subarray(0, files.length * size),
    labels: Int32Array.from(labels),
    count: files.length,
    height,
    width,
    channels,
    classNames,
    files,
    skipped: skipped.map((s) => s.file),
    report,
  };
}

/** One image's pixels at the dataset's size and channels (resized when allowed). */
function pixelsAt(image: DecodedImage, channels: 1 | 3, height: number, width: number, resize: boolean, file: string, sizeSource: string): Float32Array {
  const pixels = toChannels(image, channels);
  if (image.height === height && image.width === width) return pixels;
  if (!resize) {
    throw new AekitError(
      'BAD_DATA',
      `image is ${image.width}x${image.height} (width x height) but ${sizeSource} is ${width}x${height}; give a target height and width to resize`,
      { where: file },
    );
  }
  return resizeImage(pixels, image.height, image.width, channels, height, width);
}

/** A class whose every file was skipped would be a label with no image: refuse, naming it. */
function checkEveryClassRead(root: string, classes: readonly ClassFolder[], labels: readonly number[], flat: boolean, report: FolderReadReport): void {
  if (labels.length === 0) {
    throw new AekitError('BAD_DATA', `none of the ${classes.reduce((n, c) => n + c.files.length, 0)} image files could be read: ${formatFolderReport(report)}`, { where: root });
  }
  if (flat) return;
  const seen = new Set(labels);
  const lost = classes.filter((_, index) => !seen.has(index)).map((cls) => path.join(root, cls.name));
  if (lost.length > 0) {
    throw new AekitError('BAD_DATA', `every image of ${lost.length === 1 ? 'class folder' : 'class folders'} ${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ` and ${lost.length - 5} more` : ''} was skipped: ${formatFolderReport(report)}`, {
      where: root,
    });
  }
}

function allocate(root: string, count: number, height: number, width: number, channels: number): Float32Array {
  try {
    return new Float32Array(count * height * width * channels);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const gb = (count * height * width * channels * 4) / 2 ** 30;
    throw new AekitError(
      'BAD_ARGUMENT',
      `${count} images of ${width}x${height}x${channels} need ${gb.toFixed(1)} GB as float32; ` +
        'give a smaller height/width or limitPerClass',
      { where: root, cause: error },
    );
  }
}

/**
 * Reads individual PNG/JPEG files (e.g. the images a latent tool edits) as an unlabelled dataset
 * of the given size and channels, resized like {@link loadImageFolder} does. `files` keeps the
 * paths as given. Files named one by one are not skipped: a bad one is an error.
 * @throws AekitError FILE_NOT_FOUND for a missing file, BAD_DATA for one that does not decode.
 */
export async function loadImageFiles(files: readonly string[], opts: { height: number; width: number; channels: 1 | 3 }): Promise<FolderDataset> {
  checkOptions(files[0] ?? '<no files>', opts);
  if (files.length === 0) throw new AekitError('BAD_ARGUMENT', 'no image files given');
  const { height, width, channels } = opts;
  const images = new Float32Array(files.length * height * width * channels);
  for (let i = 0; i < files.length; i++) {
    const bytes = await fs.promises.readFile(files[i]).catch((error: NodeJS.ErrnoException) => {
      const code = error.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'BAD_DATA';
      throw new AekitError(code, `cannot read image: ${error.message}`, { where: files[i], cause: error });
    });
    const decoded = decodeImage(bytes);
    if (!decoded.ok) throw new AekitError('BAD_DATA', `${decoded.reason}: ${decoded.detail}`, { where: files[i] });
    const pixels = pixelsAt(decoded.image, channels, height, width, true, files[i], 'the requested size');
    const offset = i * height * width * channels;
    for (let k = 0; k < pixels.length; k++) images[offset + k] = Math.min(1, Math.max(0, pixels[k]));
  }
  const report: FolderReadReport = { root: 'files', read: files.length, classNames: [], skipped: {}, skippedFiles: [], ignored: 0 };
  return { name: 'files', images, labels: new Int32Array(files.length).fill(-1), count: files.length, height, width, channels, classNames: [], files: [...files], skipped: [], report };
}
