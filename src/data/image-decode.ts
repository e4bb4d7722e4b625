import { SKIP_REASONS } from './decode-types';
import type { DecodedImage, DecodeResult } from './decode-types';
import { decodeJpeg } from './jpeg';
import { decodePng } from './png';

/**
 * Image decoding for the folder loader: the format is told by magic bytes (a `.jpg` holding PNG
 * data is read as PNG), and every way a file can fail to decode comes back as a
 * `DecodeFailure` with a reason users can act on, never as a library's internal message.
 */

/** ITU-R BT.601 luma weights for R, G, B (what PIL's `convert('L')` uses). */
export const BT601_LUMA: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** Formats recognised by magic bytes but not decoded, so the count can name them. */
const OTHER_FORMATS: readonly { name: string; test: (b: Uint8Array) => boolean }[] = [
  { name: 'GIF', test: (b) => ascii(b, 0, 4) === 'GIF8' },
  { name: 'WebP', test: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP' },
  { name: 'BMP', test: (b) => ascii(b, 0, 2) === 'BM' },
  { name: 'TIFF', test: (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*' },
  { name: 'HEIF/AVIF', test: (b) => ascii(b, 4, 4) === 'ftyp' },
  { name: 'JPEG 2000', test: (b) => ascii(b, 4, 4) === 'jP  ' },
  { name: 'PNM', test: (b) => b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x36 && (b[2] === 0x0a || b[2] === 0x20) },
];

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** True for PNG's 8-byte signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG';
}

/** True for JPEG's start-of-image marker followed by another marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Decodes PNG or JPEG bytes, whatever the file is called. PNG: every bit depth and colour type
 * (1/2/4/8/16-bit gray, palette with transparency, gray+alpha, RGB, RGBA, interlaced). JPEG:
 * baseline, progressive, grayscale, and CMYK/YCCK as Adobe writes them; EXIF orientation applied.
 */
export function decodeImage(bytes: Uint8Array): DecodeResult {
  if (bytes.length === 0) return { ok: false, reason: SKIP_REASONS.emptyFile, detail: 'the file is empty' };
  if (isPng(bytes)) return decodePng(bytes);
  if (isJpeg(bytes)) return decodeJpeg(bytes);
  const other = OTHER_FORMATS.find((f) => f.test(bytes));
  if (other) return { ok: false, reason: SKIP_REASONS.unsupportedFormat, kind: other.name, detail: `${other.name} data; aekit reads PNG and JPEG` };
  const head = Buffer.from(bytes.subarray(0, 4)).toString('hex');
  return { ok: false, reason: SKIP_REASONS.notImage, kind: 'unknown content', detail: `neither PNG nor JPEG data (the file starts with 0x${head})` };
}

/**
 * What {@link toChannels} does with transparency: composite on white (the data loader's choice), or
 * ignore it and keep the colour stored under it (what PIL's `Image.convert('RGB')` does, and so
 * pytorch-fid's image reader).
 */
export type AlphaHandling = 'composite' | 'ignore';

/**
 * RGBA in [0, 1] -> HWC values in [0, 1] with `channels` channels. Transparency is composited on
 * white (so transparent strokes on a transparent page come out as strokes on paper), or ignored
 * (`alphaHandling` 'ignore'); grayscale is BT.601 luma of the resulting colour.
 */
export function toChannels(image: DecodedImage, channels: 1 | 3, alphaHandling: AlphaHandling = 'composite'): Float32Array {
  const pixels = image.width * image.height;
  const out = new Float32Array(pixels * channels);
  const [wr, wg, wb] = BT601_LUMA;
  const rgba = image.rgba;
  const ignoreAlpha = alphaHandling === 'ignore';
  for (let p = 0; p < pixels; p++) {
    const alpha = ignoreAlpha ? 1 : rgba[4 * p + 3];
    const white = 1 - alpha;
    const r = rgba[4 * p] * alpha + white;
    const g = rgba[4 * p + 1] * alpha + white;
    const b = rgba[4 * p + 2] * alpha + white;
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
