import * as jpeg from 'jpeg-js';
import { SKIP_REASONS } from './decode-types';
import type { DecodedImage, DecodeResult } from './decode-types';

/**
 * JPEG decoding with jpeg-js: baseline and progressive, grayscale, YCbCr, and 4-component CMYK
 * or YCCK as Adobe's applications write it (an APP14 "Adobe" marker; the samples stored inverted,
 * which jpeg-js undoes). Before decoding, the markers are read to refuse what jpeg-js would
 * decode wrongly or not at all (lossless, hierarchical, arithmetic coding, 12-bit samples, CMYK
 * without the Adobe marker) with a reason; after, the EXIF orientation is applied, so a phone
 * photo stored sideways is read upright, as image viewers and PIL's `exif_transpose` show it.
 */

/** Start-of-frame markers (0xFFC0-0xFFCF except DHT 0xC4, JPG 0xC8, DAC 0xCC) and what they are. */
const FRAME_KINDS: ReadonlyMap<number, { name: string; supported: boolean }> = new Map([
  [0xc0, { name: 'baseline', supported: true }],
  [0xc1, { name: 'extended sequential', supported: true }],
  [0xc2, { name: 'progressive', supported: true }],
  [0xc3, { name: 'lossless', supported: false }],
  [0xc5, { name: 'hierarchical', supported: false }],
  [0xc6, { name: 'hierarchical progressive', supported: false }],
  [0xc7, { name: 'hierarchical lossless', supported: false }],
  [0xc9, { name: 'arithmetic coding', supported: false }],
  [0xca, { name: 'arithmetic coding (progressive)', supported: false }],
  [0xcb, { name: 'arithmetic coding (lossless)', supported: false }],
  [0xcd, { name: 'arithmetic coding (hierarchical)', supported: false }],
  [0xce, { name: 'arithmetic coding (hierarchical progressive)', supported: false }],
  [0xcf, { name: 'arithmetic coding (hierarchical lossless)', supported: false }],
]);

const EOI = 0xd9;
const SOS = 0xda;
const APP1 = 0xe1;
const APP14 = 0xee;
/** EXIF tag of the orientation (TIFF/EP), values 1-8. */
const ORIENTATION_TAG = 0x0112;

/** What the markers before the first scan say about a JPEG. */
interface JpegHeader {
  frame?: { kind: number; precision: number; components: number };
  adobe: boolean;
  /** EXIF orientation 1-8 (1: as stored). */
  orientation: number;
  /** The end-of-image marker is present. */
  complete: boolean;
}

/** Reads the marker segments up to the first scan, and looks for an end-of-image marker. */
function readHeader(bytes: Uint8Array): JpegHeader {
  const header: JpegHeader = { adobe: false, orientation: 1, complete: false };
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const body = bytes.subarray(at + 4, at + 2 + length);
    if (FRAME_KINDS.has(marker) && body.length >= 6) header.frame = { kind: marker, precision: body[0], components: body[5] };
    if (marker === APP14 && String.fromCharCode(...body.subarray(0, 5)) === 'Adobe') header.adobe = true;
    if (marker === APP1 && String.fromCharCode(...body.subarray(0, 6)) === 'Exif\0\0') header.orientation = exifOrientation(body.subarray(6));
    if (marker === SOS) break;
    at += 2 + length;
  }
  // The entropy-coded data never contains 0xFFD9 (a 0xFF data byte is stuffed as 0xFF00), so a
  // search from the end finds the real end-of-image marker, even with trailing bytes after it.
  for (let i = bytes.length - 2; i >= at; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === EOI) {
      header.complete = true;
      break;
    }
  }
  return header;
}

/** The orientation tag of an EXIF (TIFF) block's first directory; 1 when absent or unreadable. */
function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const entries = u16(ifd);
  for (let k = 0; k < entries; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) === ORIENTATION_TAG) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/**
 * The stored pixels turned upright for EXIF orientation `orientation` (the TIFF definitions:
 * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
 * counter-clockwise).
 */
export function applyOrientation(image: DecodedImage, orientation: number): DecodedImage {
  if (orientation <= 1 || orientation > 8) return image;
  const { width: w, height: h, rgba } = image;
  const swap = orientation >= 5;
  const width = swap ? h : w;
  const height = swap ? w : h;
  const out = new Float32Array(rgba.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // (sx, sy): the stored pixel shown at (x, y).
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: [sx, sy] = [w - 1 - x, y]; break;
        case 3: [sx, sy] = [w - 1 - x, h - 1 - y]; break;
        case 4: [sx, sy] = [x, h - 1 - y]; break;
        case 5: [sx, sy] = [y, x]; break;
        case 6: [sx, sy] = [y, h - 1 - x]; break;
        case 7: [sx, sy] = [w - 1 - y, h - 1 - x]; break;
        default: [sx, sy] = [w - 1 - y, x]; break;
      }
      out.set(rgba.subarray((sy * w + sx) * 4, (sy * w + sx) * 4 + 4), (y * width + x) * 4);
    }
  }
  return { width, height, rgba: out };
}

/** Decodes a JPEG to RGBA in [0, 1] (see the module comment). */
export function decodeJpeg(bytes: Uint8Array): DecodeResult {
  const header = readHeader(bytes);
  const frame = header.frame;
  if (frame) {
    const kind = FRAME_KINDS.get(frame.kind)!;
    if (!kind.supported) return { ok: false, reason: SKIP_REASONS.unsupportedJpeg, kind: kind.name, detail: `${kind.name} JPEG; jpeg-js decodes baseline and progressive JPEG` };
    if (frame.precision !== 8) {
      return { ok: false, reason: SKIP_REASONS.unsupportedJpeg, kind: `${frame.precision}-bit`, detail: `${frame.precision}-bit samples; jpeg-js decodes 8-bit JPEG` };
    }
    if (frame.components === 4 && !header.adobe) {
      return { ok: false, reason: SKIP_REASONS.unsupportedJpeg, kind: 'CMYK without Adobe marker', detail: 'a 4-component JPEG without the Adobe APP14 marker: its colour model is unknown' };
    }
    if (frame.components !== 1 && frame.components !== 3 && frame.components !== 4) {
      return { ok: false, reason: SKIP_REASONS.unsupportedJpeg, kind: `${frame.components} components`, detail: `${frame.components} colour components; expected 1 (gray), 3 (colour) or 4 (CMYK)` };
    }
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (error) {
    const message = (error as Error).message;
    if (/maxResolutionInMP|maxMemoryUsageInMB|allocate/.test(message)) return { ok: false, reason: SKIP_REASONS.tooLarge, detail: message };
    if (!header.complete) return { ok: false, reason: SKIP_REASONS.truncatedJpeg, detail: 'the file ends before its end-of-image marker' };
    return { ok: false, reason: SKIP_REASONS.corruptJpeg, detail: message };
  }
  if (!frame) return { ok: false, reason: SKIP_REASONS.corruptJpeg, detail: 'no frame header (SOF marker) before the image data' };
  const rgba = new Float32Array(decoded.data.length);
  for (let i = 0; i < rgba.length; i++) rgba[i] = decoded.data[i] / 255;
  return { ok: true, image: applyOrientation({ width: decoded.width, height: decoded.height, rgba }, header.orientation) };
}
