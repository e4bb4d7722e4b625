/**
 * A minimal PNG encoder for fixtures: every bit depth and colour type of the PNG specification,
 * palettes with tRNS transparency, and Adam7 interlacing, none of which pngjs's writer offers
 * (it writes 8/16-bit gray, RGB, gray+alpha and RGBA only). Filter type 0 on every row: the
 * fixtures test decoders, not compression.
 */
import * as zlib from 'node:zlib';

/** PNG colour types (PNG spec 11.2.2). */
export const COLOR_TYPES = { gray: 0, rgb: 2, palette: 3, grayAlpha: 4, rgba: 6 } as const;
type ColorType = (typeof COLOR_TYPES)[keyof typeof COLOR_TYPES];

const SAMPLES: Record<ColorType, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7: readonly [number, number, number, number][] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** What to encode: `sample(x, y)` gives the raw samples of one pixel (palette index, gray, RGB...). */
export interface RawPng {
  width: number;
  height: number;
  depth: 1 | 2 | 4 | 8 | 16;
  colorType: ColorType;
  sample(x: number, y: number): number[];
  /** RGB triples (colour type 3). */
  palette?: [number, number, number][];
  /** tRNS: one alpha per palette entry, or the transparent gray value / RGB triple. */
  transparency?: number[];
  interlace?: boolean;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** One scanline (filter byte 0, then the packed samples) of the pixels at xs in row y. */
function scanline(png: RawPng, xs: number[], y: number): Buffer {
  const samples = xs.flatMap((x) => png.sample(x, y));
  if (samples.length !== xs.length * SAMPLES[png.colorType]) throw new Error(`sample(x, ${y}) must give ${SAMPLES[png.colorType]} values`);
  const bits = samples.length * png.depth;
  const out = Buffer.alloc(1 + Math.ceil(bits / 8));
  samples.forEach((value, i) => {
    if (png.depth === 16) {
      out.writeUInt16BE(value, 1 + 2 * i);
    } else if (png.depth === 8) {
      out[1 + i] = value;
    } else {
      const bit = i * png.depth;
      out[1 + (bit >> 3)] |= value << (8 - png.depth - (bit & 7));
    }
  });
  return out;
}

function range(start: number, end: number, step: number): number[] {
  const out: number[] = [];
  for (let v = start; v < end; v += step) out.push(v);
  return out;
}

/** Encodes `png` (see {@link RawPng}). */
export function encodePng(png: RawPng): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(png.width, 0);
  ihdr.writeUInt32BE(png.height, 4);
  ihdr[8] = png.depth;
  ihdr[9] = png.colorType;
  ihdr[12] = png.interlace ? 1 : 0;
  const passes = png.interlace ? ADAM7 : [[0, 0, 1, 1] as [number, number, number, number]];
  const lines: Buffer[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const xs = range(x0, png.width, dx);
    if (xs.length === 0) continue;
    for (const y of range(y0, png.height, dy)) lines.push(scanline(png, xs, y));
  }
  const chunks = [chunk('IHDR', ihdr)];
  if (png.palette) chunks.push(chunk('PLTE', Buffer.from(png.palette.flat())));
  if (png.transparency) {
    const trns = png.colorType === COLOR_TYPES.palette ? Buffer.from(png.transparency) : Buffer.alloc(2 * png.transparency.length);
    if (png.colorType !== COLOR_TYPES.palette) png.transparency.forEach((v, i) => trns.writeUInt16BE(v, 2 * i));
    chunks.push(chunk('tRNS', trns));
  }
  chunks.push(chunk('IDAT', zlib.deflateSync(Buffer.concat(lines), { level: 9 })), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}
