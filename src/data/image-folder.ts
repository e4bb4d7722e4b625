import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { AekitError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import { resizeImage } from './resize';
import type { FolderDataset } from './types';
import { checkInt } from './validate';

/**
 * Datasets given as a folder of PNG/JPEG images, one folder per class. A class is any folder that
 * directly contains images and is named by its path relative to the root, so both the Omniglot
 * layout (alphabet/character/*.png) and the LFW/ArtBench layout (class/*.jpg) work unchanged.
 */

/** File extensions read as images (case-insensitive); the format is then told by magic bytes. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];

/** ITU-R BT.601 luma weights for R, G, B (what PIL's `convert('L')` uses). */
export const BT601_LUMA: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** Files read concurrently ahead of the one being decoded: overlaps disk with decoding. */
const READ_AHEAD = 8;

/** Name of the class holding images placed directly in the root. */
const ROOT_CLASS = '.';

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
  /** Receives a debug note about skipped files. */
  logger?: Logger;
}

interface ClassFolder {
  name: string;
  files: string[];
}

interface Scan {
  classes: ClassFolder[];
  emptyLeaves: string[];
  skipped: string[];
}

/** Plain code-unit order, so class indices never depend on the machine's locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

async function scan(root: string): Promise<Scan> {
  const result: Scan = { classes: [], emptyLeaves: [], skipped: [] };
  const visit = async (dir: string): Promise<void> => {
    const entries = await fs.promises.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => byName(a.name, b.name));
    const images: string[] = [];
    const subdirs: string[] = [];
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const relative = toPosix(path.relative(root, full));
      // Hidden entries (.DS_Store, .git, macOS '._x.png' resource forks) are never data.
      if (entry.name.startsWith('.')) {
        result.skipped.push(relative);
        continue;
      }
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const stat = await fs.promises.stat(full).catch(() => undefined);
        isDir = stat?.isDirectory() ?? false;
        isFile = stat?.isFile() ?? false;
      }
      if (isDir) subdirs.push(full);
      else if (isFile && isImageName(entry.name)) images.push(relative);
      else result.skipped.push(relative);
    }
    if (images.length > 0) {
      const name = dir === root ? ROOT_CLASS : toPosix(path.relative(root, dir));
      result.classes.push({ name, files: images });
    } else if (subdirs.length === 0 && dir !== root) {
      result.emptyLeaves.push(toPosix(path.relative(root, dir)));
    }
    for (const sub of subdirs) await visit(sub);
  };
  await visit(root);
  result.classes.sort((a, b) => byName(a.name, b.name));
  return result;
}

interface Decoded {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  rgba: Uint8Array;
}

function decodeImage(file: string, bytes: Buffer): Decoded {
  const isPng = bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      // pngjs expands every colour type to RGBA and rescales 16-bit samples to 8 bits.
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, rgba: img.data };
    }
  } catch (error) {
    throw new AekitError('BAD_DATA', `corrupt ${isPng ? 'PNG' : 'JPEG'} image: ${(error as Error).message}`, {
      where: file,
      cause: error,
    });
  }
  const head = bytes.subarray(0, 4).toString('hex');
  throw new AekitError('BAD_DATA', `not a PNG or JPEG image (file starts with 0x${head || 'nothing, it is empty'})`, {
    where: file,
  });
}

/** RGBA bytes -> HWC floats in [0, 1] with `channels` channels, composited on white. */
function toChannels(img: Decoded, channels: 1 | 3): Float32Array {
  const pixels = img.width * img.height;
  const out = new Float32Array(pixels * channels);
  const [wr, wg, wb] = BT601_LUMA;
  for (let p = 0; p < pixels; p++) {
    const alpha = img.rgba[4 * p + 3] / 255;
    const white = 1 - alpha;
    const r = (img.rgba[4 * p] / 255) * alpha + white;
    const g = (img.rgba[4 * p + 1] / 255) * alpha + white;
    const b = (img.rgba[4 * p + 2] / 255) * alpha + white;
    if (channels === 1) {
      out[p] = wr * r + wg * g + wb * b;
    } else {
      out[3 * p] = r;
      out[3 * p + 1] = g;
      out[3 * p + 2] = b;
    }
  }
  return out;
}

function readImageFile(file: string): Promise<Buffer> {
  const pending = fs.promises.readFile(file).catch((error: NodeJS.ErrnoException) => {
    const code = error.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'BAD_DATA';
    throw new AekitError(code, `cannot read image: ${error.message}`, { where: file, cause: error });
  });
  // Read-ahead promises may reject while an earlier file is failing; keep that from surfacing
  // as an unhandled rejection (awaiting the promise still throws).
  pending.catch(() => undefined);
  return pending;
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

/**
 * Reads a folder of PNG/JPEG images into memory, one class per folder that directly contains
 * images (named by its path relative to `root`, '.' for images in the root itself). Classes and
 * the files within each class are sorted by name (code-unit order), so indices are reproducible.
 * Hidden entries and files that are not .png/.jpg/.jpeg are skipped and listed in `skipped`.
 * @throws AekitError FILE_NOT_FOUND if `root` is missing; BAD_DATA, naming the file or folder,
 *   for a corrupt image, no images at all, a leaf folder without images, or (without a target
 *   size, or with `resize: false`) an image whose size differs from the others.
 */
export async function loadImageFolder(root: string, opts: ImageFolderOptions): Promise<FolderDataset> {
  checkOptions(root, opts);
  const logger = opts.logger ?? silentLogger;
  const stat = await fs.promises.stat(root).catch(() => undefined);
  if (!stat) throw new AekitError('FILE_NOT_FOUND', 'image folder not found', { where: root });
  if (!stat.isDirectory()) throw new AekitError('BAD_ARGUMENT', 'expected a folder of images, found a file', { where: root });

  const { classes, emptyLeaves, skipped } = await scan(root);
  if (classes.length === 0) {
    const note = skipped.length > 0 ? ` (skipped ${skipped.length} other entries, e.g. ${skipped[0]})` : '';
    throw new AekitError('BAD_DATA', `no images (${IMAGE_EXTENSIONS.join(', ')}) found under the folder${note}`, {
      where: root,
    });
  }
  if (emptyLeaves.length > 0) {
    const shown = emptyLeaves.slice(0, 5).map((leaf) => path.join(root, leaf));
    const more = emptyLeaves.length > shown.length ? ` and ${emptyLeaves.length - shown.length} more` : '';
    throw new AekitError('BAD_DATA', `leaf folder without images (an empty class): ${shown.join(', ')}${more}`, {
      where: root,
    });
  }
  if (skipped.length > 0) logger.debug(`${root}: skipped ${skipped.length} non-image entries: ${skipped.join(', ')}`);

  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((cls, label) => {
    for (const file of cls.files.slice(0, opts.limitPerClass ?? cls.files.length)) {
      files.push(file);
      labels.push(label);
    }
  });

  const channels = opts.channels;
  const resize = opts.resize ?? opts.height !== undefined;
  let height = opts.height ?? 0;
  let width = opts.width ?? 0;
  let sizeSource = 'the requested size';
  let images: Float32Array | undefined;
  const pending = new Map<number, Promise<Buffer>>();
  const fullPath = (i: number) => path.join(root, files[i]);
  for (let i = 0; i < Math.min(READ_AHEAD, files.length); i++) pending.set(i, readImageFile(fullPath(i)));
  for (let i = 0; i < files.length; i++) {
    const file = fullPath(i);
    const bytes = await (pending.get(i) as Promise<Buffer>);
    pending.delete(i);
    if (i + READ_AHEAD < files.length) pending.set(i + READ_AHEAD, readImageFile(fullPath(i + READ_AHEAD)));
    const decoded = decodeImage(file, bytes);
    if (height === 0) {
      height = decoded.height;
      width = decoded.width;
      sizeSource = `the first image ${path.join(root, files[0])}`;
    }
    let pixels = toChannels(decoded, channels);
    if (decoded.height !== height || decoded.width !== width) {
      if (!resize) {
        throw new AekitError(
          'BAD_DATA',
          `image is ${decoded.width}x${decoded.height} (width x height) but ${sizeSource} is ${width}x${height}; ` +
            'give a target height and width to resize',
          { where: file },
        );
      }
      pixels = resizeImage(pixels, decoded.height, decoded.width, channels, height, width);
    }
    if (!images) images = allocate(root, files.length, height, width, channels);
    const offset = i * height * width * channels;
    // Resampling can overshoot 1 by a rounding error; the dataset contract is [0, 1].
    for (let k = 0; k < pixels.length; k++) images[offset + k] = Math.min(1, Math.max(0, pixels[k]));
  }

  return {
    name: root,
    images: images as Float32Array,
    labels: Int32Array.from(labels),
    count: files.length,
    height,
    width,
    channels,
    classNames: classes.map((cls) => cls.name),
    files,
    skipped,
  };
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
 * paths as given.
 * @throws AekitError FILE_NOT_FOUND for a missing file, BAD_DATA for one that is not an image.
 */
export async function loadImageFiles(files: readonly string[], opts: { height: number; width: number; channels: 1 | 3 }): Promise<FolderDataset> {
  checkOptions(files[0] ?? '<no files>', opts);
  if (files.length === 0) throw new AekitError('BAD_ARGUMENT', 'no image files given');
  const { height, width, channels } = opts;
  const images = new Float32Array(files.length * height * width * channels);
  for (let i = 0; i < files.length; i++) {
    const decoded = decodeImage(files[i], await readImageFile(files[i]));
    let pixels = toChannels(decoded, channels);
    if (decoded.height !== height || decoded.width !== width) pixels = resizeImage(pixels, decoded.height, decoded.width, channels, height, width);
    const offset = i * height * width * channels;
    for (let k = 0; k < pixels.length; k++) images[offset + k] = Math.min(1, Math.max(0, pixels[k]));
  }
  return { name: 'files', images, labels: new Int32Array(files.length).fill(-1), count: files.length, height, width, channels, classNames: [], files: [...files], skipped: [] };
}
