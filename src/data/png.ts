import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { SKIP_REASONS } from './decode-types';
import type { DecodeResult } from './decode-types';

/**
 * PNG decoding with pngjs at every bit depth and colour type. pngjs would rescale 16-bit samples
 * to 8 bits; we ask for the raw samples instead (`skipRescale`) and divide by the depth's maximum,
 * so a 16-bit scan keeps its 65,536 levels and 1/2/4-bit gray maps onto [0, 1] exactly.
 */

/** PNG colour type 3: samples are palette indices (pngjs expands them to 8-bit RGBA). */
const PALETTE_COLOR_TYPE = 3;

/** Start of the first chunk: after the 8-byte signature. */
const FIRST_CHUNK = 8;

/**
 * Walks the chunks, checking each one's CRC: 'truncated' when the bytes run out before the IEND
 * chunk (an interrupted copy or download), the name of the first chunk whose checksum fails
 * (damage), or 'complete'. pngjs finds both too, but says so in messages of its own internals.
 */
function walkChunks(bytes: Uint8Array): 'complete' | 'truncated' | { damaged: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = FIRST_CHUNK;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    // length + type + data + CRC
    const end = at + 12 + length;
    if (end > bytes.length) return 'truncated';
    if (zlib.crc32(bytes.subarray(at + 4, end - 4)) >>> 0 !== view.getUint32(end - 4)) return { damaged: type };
    if (type === 'IEND') return 'complete';
    at = end;
  }
  return 'truncated';
}

/** Bit depths the PNG specification allows per colour type (PNG spec table 11.1). */
const ALLOWED_DEPTHS: ReadonlyMap<number, { name: string; depths: readonly number[] }> = new Map([
  [0, { name: 'gray', depths: [1, 2, 4, 8, 16] }],
  [2, { name: 'RGB', depths: [8, 16] }],
  [3, { name: 'palette', depths: [1, 2, 4, 8] }],
  [4, { name: 'gray+alpha', depths: [8, 16] }],
  [6, { name: 'RGBA', depths: [8, 16] }],
]);

/**
 * What is wrong with the (intact) header of a PNG that no decoder can read, if anything. pngjs
 * reports these, but a later error of its own can hide the first, so they are checked here.
 */
function headerProblem(bytes: Uint8Array): { kind: string; detail: string } | undefined {
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const [depth, colorType, compression, filter, interlace] = bytes.subarray(24, 29);
  const allowed = ALLOWED_DEPTHS.get(colorType);
  if (!allowed) return { kind: `colour type ${colorType}`, detail: `colour type ${colorType} does not exist (0, 2, 3, 4 and 6 do)` };
  if (!allowed.depths.includes(depth)) {
    return { kind: `${allowed.name} at bit depth ${depth}`, detail: `bit depth ${depth} is not allowed for ${allowed.name} images (${allowed.depths.join(', ')} are)` };
  }
  if (compression !== 0 || filter !== 0) return { kind: 'compression or filter method', detail: `compression method ${compression}, filter method ${filter}: only 0 exists` };
  if (interlace > 1) return { kind: `interlace method ${interlace}`, detail: `interlace method ${interlace}: only 0 (none) and 1 (Adam7) exist` };
  return undefined;
}

/**
 * Decodes a PNG to RGBA in [0, 1] (see the module comment). Transparency (an alpha channel, or a
 * tRNS chunk on gray, RGB or palette images) becomes the alpha value.
 */
export function decodePng(bytes: Uint8Array): DecodeResult {
  const walk = walkChunks(bytes);
  if (walk === 'truncated') return { ok: false, reason: SKIP_REASONS.truncatedPng, detail: 'the file ends before its IEND chunk' };
  if (walk !== 'complete') return { ok: false, reason: SKIP_REASONS.corruptPng, detail: `the ${JSON.stringify(walk.damaged)} chunk fails its checksum` };
  const problem = headerProblem(bytes);
  if (problem) return { ok: false, reason: SKIP_REASONS.unsupportedPng, ...problem };
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (error) {
    const message = (error as Error).message;
    if (/^Unsupported critical chunk/i.test(message)) return { ok: false, reason: SKIP_REASONS.unsupportedPng, kind: 'unknown critical chunk', detail: message };
    return { ok: false, reason: SKIP_REASONS.corruptPng, detail: message };
  }
  const max = (png.colorType as number) === PALETTE_COLOR_TYPE ? 255 : 2 ** png.depth - 1;
  const source = png.data as unknown as ArrayLike<number>;
  const rgba = new Float32Array(png.width * png.height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = source[i] / max;
  return { ok: true, image: { width: png.width, height: png.height, rgba } };
}
