import * as fs from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import { SKIP_REASONS } from './decode-types';
import type { DecodedImage, DecodeFailure } from './decode-types';
import { formatFolderReport, noteFolderRead, skippedFileLines } from './folder-report';
import { IMAGE_EXTENSIONS, scanFolder } from './folder-scan';
import { decodeImage, toChannels } from './image-decode';
import type { AlphaHandling } from './image-decode';
import type { FolderReadReport, SkippedFile } from './types';
import { checkInt } from './validate';

/**
 * A folder of images read in batches at their own size, for work that looks at every image once
 * and keeps none (FID's feature pass over 50,000 generated images): only one batch is in memory
 * at a time, where `loadImageFolder` holds the whole set. Every image under the folder is read, at
 * any depth, in the scanner's order (folders, then files, by name); other files and images that do
 * not decode are skipped and counted as the folder loader counts them.
 */

/** Files read concurrently ahead of the one being decoded: overlaps disk with decoding. */
const READ_AHEAD = 8;

/** Options of {@link ImageStream.open}. */
export interface ImageStreamOptions {
  /** Read only the first N images that decode (in the stream's order). */
  limit?: number;
  /** Receives the one-line summary (info) when the stream ends and one line per skipped file (debug). */
  logger?: Logger;
}

/** How {@link ImageStream.batches} reads the images. */
export interface ImageBatchOptions {
  /** Channels of every image: 3 replicates gray images to RGB, 1 takes BT.601 luma of colour ones. */
  channels: 1 | 3;
  /** Transparency composited on white (default) or ignored (pytorch-fid's `convert('RGB')`). */
  alpha?: AlphaHandling;
  /** Most images in a batch. */
  maxImages: number;
  /** Most values (height x width x channels, summed) in a batch: bounds memory for large images. */
  maxValues: number;
}

/** Images of one size, in stream order. */
export interface ImageBatch {
  /** `count` images, NHWC, values in [0, 1]. */
  images: Float32Array;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** The files, relative to the folder. */
  files: string[];
  /** Images read so far (this batch included) of {@link ImageStream.total}, for progress bars. */
  done: number;
}

/** The first image of a stream, at its own size. */
export interface FirstImage {
  /** Relative to the folder. */
  file: string;
  height: number;
  width: number;
  /** 1 when every pixel is gray (r = g = b), else 3. */
  channels: 1 | 3;
}

type ReadOutcome = { ok: true; bytes: Buffer } | ({ ok: false } & DecodeFailure);

function readImageFile(file: string): Promise<ReadOutcome> {
  return fs.promises.readFile(file).then(
    (bytes): ReadOutcome => ({ ok: true, bytes }),
    (error: NodeJS.ErrnoException): ReadOutcome => ({ ok: false, reason: SKIP_REASONS.unreadable, kind: error.code, detail: error.message }),
  );
}

/** True when some pixel has colour. */
function hasColour(image: DecodedImage): boolean {
  const { rgba } = image;
  for (let p = 0; p < rgba.length; p += 4) if (rgba[p] !== rgba[p + 1] || rgba[p + 1] !== rgba[p + 2]) return true;
  return false;
}

/** A folder of images read batch by batch (see the module comment). */
export class ImageStream {
  private readonly skipped: SkippedFile[];
  private read = 0;
  private colourToGray = 0;
  private finished = false;
  private decodeMilliseconds = 0;

  private constructor(
    /** The folder, as given. */
    readonly root: string,
    /** Candidate image files (by extension), relative to the folder, in reading order. */
    readonly files: readonly string[],
    skipped: SkippedFile[],
    private readonly ignored: number,
    private readonly limit: number | undefined,
    private readonly logger: Logger,
  ) {
    this.skipped = skipped;
  }

  /**
   * Scan `root` (names only; nothing is decoded yet).
   * @throws AekitError FILE_NOT_FOUND for a missing folder; BAD_ARGUMENT for a file or a bad limit;
   *   BAD_DATA when the folder cannot be read or holds no PNG/JPEG file at any depth.
   */
  static async open(root: string, opts: ImageStreamOptions = {}): Promise<ImageStream> {
    if (opts.limit !== undefined) checkInt(opts.limit, 'limit', 1);
    const stat = await fs.promises.stat(root).catch(() => undefined);
    if (!stat) throw new AekitError('FILE_NOT_FOUND', 'image folder not found', { where: root });
    if (!stat.isDirectory()) throw new AekitError('BAD_ARGUMENT', 'expected a folder of images, found a file', { where: root });
    const scan = await scanFolder(root).catch((error: Error) => {
      throw new AekitError('BAD_DATA', `cannot read the image folder: ${error.message}`, { where: root, cause: error });
    });
    const files = scan.classes.flatMap((c) => c.files);
    if (files.length === 0) {
      const note = scan.skipped.length > 0 ? ` (skipped ${scan.skipped.length} other files, e.g. ${scan.skipped[0].file})` : '';
      throw new AekitError('BAD_DATA', `no images (${IMAGE_EXTENSIONS.join(', ')}) found under the folder${note}`, { where: root });
    }
    return new ImageStream(root, files, [...scan.skipped], scan.ignored, opts.limit, opts.logger ?? silentLogger);
  }

  /** Images the stream will give at most: the candidate files, or the limit when smaller. */
  get total(): number {
    return Math.min(this.files.length, this.limit ?? Infinity);
  }

  /** Milliseconds spent reading and decoding so far (for benchmarks). */
  get decodeMs(): number {
    return this.decodeMilliseconds;
  }

  /** Colour images read as gray so far (with `channels: 1`). */
  get colourImagesMadeGray(): number {
    return this.colourToGray;
  }

  /**
   * The first image that decodes, at its own size (what a default feature network is chosen by).
   * @throws AekitError BAD_DATA when no file decodes.
   */
  async firstImage(): Promise<FirstImage> {
    const failures: string[] = [];
    for (const file of this.files) {
      const read = await readImageFile(path.join(this.root, file));
      const decoded = read.ok ? decodeImage(read.bytes) : read;
      if (decoded.ok) return { file, height: decoded.image.height, width: decoded.image.width, channels: hasColour(decoded.image) ? 3 : 1 };
      failures.push(`${file}: ${decoded.reason}`);
    }
    throw new AekitError('BAD_DATA', `none of the ${this.files.length} image files could be read (${failures.slice(0, 3).join('; ')}${failures.length > 3 ? '; ...' : ''})`, { where: this.root });
  }

  /**
   * The images, in batches of one size (a folder of mixed sizes gives a new batch at each change).
   * Can be iterated once; {@link report} is complete when it ends.
   * @throws AekitError BAD_ARGUMENT when iterated twice; BAD_DATA when no image decodes.
   */
  async *batches(opts: ImageBatchOptions): AsyncGenerator<ImageBatch> {
    if (this.finished || this.read > 0) throw new AekitError('BAD_ARGUMENT', 'an image stream is read once', { where: this.root });
    const { channels } = opts;
    let clock = performance.now();
    let pending: { images: Float32Array[]; files: string[]; height: number; width: number; values: number } | undefined;
    const flush = (): ImageBatch => {
      const batch = pending!;
      pending = undefined;
      const size = batch.height * batch.width * channels;
      const images = new Float32Array(batch.files.length * size);
      batch.images.forEach((image, i) => images.set(image, i * size));
      return { images, count: batch.files.length, height: batch.height, width: batch.width, channels, files: batch.files, done: this.read };
    };
    const reads = new Map<number, Promise<ReadOutcome>>();
    const readAt = (i: number) => readImageFile(path.join(this.root, this.files[i]));
    for (let i = 0; i < Math.min(READ_AHEAD, this.files.length); i++) reads.set(i, readAt(i));
    for (let i = 0; i < this.files.length && this.read < this.total; i++) {
      const read = await reads.get(i)!;
      reads.delete(i);
      if (i + READ_AHEAD < this.files.length) reads.set(i + READ_AHEAD, readAt(i + READ_AHEAD));
      const decoded = read.ok ? decodeImage(read.bytes) : read;
      if (!decoded.ok) {
        this.skipped.push({ file: this.files[i], reason: decoded.reason, kind: decoded.kind, detail: decoded.detail });
        continue;
      }
      const { image } = decoded;
      if (channels === 1 && hasColour(image)) this.colourToGray++;
      const pixels = toChannels(image, channels, opts.alpha);
      if (pending && (pending.height !== image.height || pending.width !== image.width || pending.files.length >= opts.maxImages || pending.values + pixels.length > opts.maxValues)) {
        const batch = flush();
        this.decodeMilliseconds += performance.now() - clock;
        yield batch;
        clock = performance.now();
      }
      pending ??= { images: [], files: [], height: image.height, width: image.width, values: 0 };
      pending.images.push(pixels);
      pending.files.push(this.files[i]);
      pending.values += pixels.length;
      this.read++;
    }
    // Reads started ahead of a limit are left to finish; their results are not needed.
    this.finished = true;
    this.finish();
    this.decodeMilliseconds += performance.now() - clock;
    if (pending) yield { ...flush(), done: this.total };
  }

  /** Log and hand on the read report; refuse a folder of which nothing decoded. */
  private finish(): void {
    const report = this.report();
    noteFolderRead(report);
    this.logger.info(formatFolderReport(report));
    for (const line of skippedFileLines(report)) this.logger.debug(`${this.root}: skipped ${line}`);
    if (this.read === 0) throw new AekitError('BAD_DATA', `none of the ${this.files.length} image files could be read: ${formatFolderReport(report)}`, { where: this.root });
  }

  /** What was read and skipped so far (complete once {@link batches} has ended). */
  report(): FolderReadReport {
    const counts: Record<string, number> = {};
    for (const file of this.skipped) counts[file.reason] = (counts[file.reason] ?? 0) + 1;
    return { root: this.root, read: this.read, classNames: [], skipped: counts, skippedFiles: [...this.skipped], ignored: this.ignored };
  }
}
