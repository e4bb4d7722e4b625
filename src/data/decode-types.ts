/**
 * What decoding an image file gives: the pixels, or why the file was skipped. Shared by the PNG
 * and JPEG decoders and the folder loader.
 */

/** A decoded image: RGBA in [0, 1], 16-bit samples kept at full precision. */
export interface DecodedImage {
  width: number;
  height: number;
  /** width * height * 4 values in [0, 1], row-major RGBA; alpha 1 where the file has none. */
  rgba: Float32Array;
}

/**
 * Why a file was not read, as counted in a folder's read report. The first group is decided from
 * the name and the magic bytes; the others by the decoders.
 */
export const SKIP_REASONS = Object.freeze({
  /** Not an image at all (text, CSV, archives); counted by extension. */
  notImage: 'not an image',
  /** An image format aekit does not decode (GIF, BMP, WebP, TIFF, ...); counted by format. */
  unsupportedFormat: 'unsupported image format',
  emptyFile: 'empty file',
  /** The file or folder could not be read (permissions, vanished while reading). */
  unreadable: 'unreadable',
  truncatedPng: 'truncated PNG',
  corruptPng: 'corrupt PNG',
  /** A PNG that pngjs cannot decode (an invalid bit depth/colour type, an unknown critical chunk). */
  unsupportedPng: 'unsupported PNG variant',
  truncatedJpeg: 'truncated JPEG',
  corruptJpeg: 'corrupt JPEG',
  /** Lossless, hierarchical, arithmetic-coded or 12-bit JPEG; CMYK without Adobe's marker. */
  unsupportedJpeg: 'unsupported JPEG variant',
  /** Beyond jpeg-js's limits (100 megapixels, 512 MB). */
  tooLarge: 'too large to decode',
} as const);
/** See {@link SKIP_REASONS}. */
export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];

/** A file that could not be decoded: the reason it is counted under, a sub-kind, and the detail. */
export interface DecodeFailure {
  reason: SkipReason;
  /** A short sub-category the reason is counted by (a format, a variant), when there is one. */
  kind?: string;
  /** What exactly was wrong, for the per-file listing. */
  detail: string;
}

/** The result of decoding one file. */
export type DecodeResult = { ok: true; image: DecodedImage } | ({ ok: false } & DecodeFailure);
