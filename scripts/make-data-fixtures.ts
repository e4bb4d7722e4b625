/**
 * Regenerates fixtures/data/ (run: `npx tsx scripts/make-data-fixtures.ts`, then
 * `/usr/bin/python3 scripts/make-jpeg-fixtures.py` for the JPEGs only libjpeg can write).
 * Everything is derived from bundled MNIST, formulas and a fixed seed, so a rerun reproduces the
 * committed bytes; never edit the fixtures by hand. Bad files for error tests are made by the
 * tests themselves in a temp folder.
 *
 * formats/png/ holds one small PNG per bit depth and colour type (and interlaced ones), with the
 * raw samples each must decode to in formats/png/expected.json; formats/jpeg-js/ a baseline JPEG
 * and its source pixels. formats/pil/ (progressive, grayscale, CMYK, EXIF orientations) belongs to
 * the Python script, and this script leaves it alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng';
import { mnistDataDir } from '../src/data/mnist';
import { COLOR_TYPES, encodePng, type RawPng } from './png-writer';

const FIXTURE_SEED = 20240601;
const OUT = path.join(__dirname, '..', 'fixtures', 'data');
/** Images in the MNIST slice: enough for a batch test, small enough to commit (78 KB raw). */
const MNIST_SLICE = 100;
const GLYPH_SIZE = 8;
/** Pixels flipped per drawing (draws may repeat, so at most this many). */
const FLIPPED_PIXELS = 3;

/** First `count` records of an IDX file, with the count in the header rewritten. */
function idxSlice(file: string, count: number): Buffer {
  const bytes = fs.readFileSync(file);
  const rank = bytes[3];
  const header = Buffer.from(bytes.subarray(0, 4 + 4 * rank));
  let record = 1;
  for (let i = 1; i < rank; i++) record *= header.readUInt32BE(4 + 4 * i);
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, bytes.subarray(header.length, header.length + count * record)]);
}

function writeMnistSlice(): void {
  const dir = path.join(OUT, 'mnist-100');
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) {
    const slice = idxSlice(path.join(mnistDataDir(), name), MNIST_SLICE);
    fs.writeFileSync(path.join(dir, name), slice);
    fs.writeFileSync(path.join(dir, `${name}.gz`), zlib.gzipSync(slice, { level: 9 }));
  }
}

/** Stroke templates, one per character, distinct so that a classifier can tell them apart. */
const STROKES: ((x: number, y: number) => boolean)[] = [
  (_x, y) => y === 3 || y === 4, // horizontal bar
  (x) => x === 3 || x === 4, // vertical bar
  (x, y) => x === y, // diagonal
  (x, y) => x + y === GLYPH_SIZE - 1, // anti-diagonal
  (x, y) => (x === 1 || x === 6 || y === 1 || y === 6) && x >= 1 && x <= 6 && y >= 1 && y <= 6, // box
  (x, y) => (x === 1 && y >= 1) || (y === 6 && x >= 1), // L
];

function writePng(file: string, width: number, height: number, rgba: Uint8Array, colorType: 0 | 2 | 6): void {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  fs.writeFileSync(file, PNG.sync.write(png, { colorType }));
}

/**
 * Omniglot layout: alphabet/character/*.png, black strokes on white. Each drawing flips a few
 * random pixels, so drawings of one character differ but stay closer to each other than to any
 * other character (shifting by a pixel instead would move 8x8 strokes onto other characters').
 */
function writeOmniglot(): void {
  const root = path.join(OUT, 'omniglot-tiny');
  let glyph = 0;
  for (const alphabet of ['alphabet_a', 'alphabet_b']) {
    for (const character of ['character01', 'character02', 'character03']) {
      const dir = path.join(root, alphabet, character);
      fs.mkdirSync(dir, { recursive: true });
      const stroke = STROKES[glyph];
      for (let k = 0; k < 4; k++) {
        const rng = Rng.derive(FIXTURE_SEED, 'omniglot', glyph, k);
        const flipped = new Set(Array.from({ length: FLIPPED_PIXELS }, () => rng.int(GLYPH_SIZE * GLYPH_SIZE)));
        const rgba = new Uint8Array(GLYPH_SIZE * GLYPH_SIZE * 4);
        for (let y = 0; y < GLYPH_SIZE; y++) {
          for (let x = 0; x < GLYPH_SIZE; x++) {
            const ink = stroke(x, y) !== flipped.has(y * GLYPH_SIZE + x);
            const v = ink ? 0 : 255;
            rgba.set([v, v, v, 255], (y * GLYPH_SIZE + x) * 4);
          }
        }
        writePng(path.join(dir, `${k}.png`), GLYPH_SIZE, GLYPH_SIZE, rgba, 0);
      }
      glyph++;
    }
  }
  fs.writeFileSync(path.join(root, 'README.txt'), 'Omniglot-layout fixture: skipped by the loader (not an image).\n');
}

/** Class-folder layout of RGB JPEGs (12 wide, 10 high): a bluish and a reddish class. */
function writeRgbJpegs(): void {
  const root = path.join(OUT, 'rgb-jpeg');
  const [width, height] = [12, 10];
  const base: Record<string, [number, number, number]> = { blue: [40, 60, 220], red: [220, 40, 40] };
  for (const [cls, [r, g, b]] of Object.entries(base)) {
    const dir = path.join(root, cls);
    fs.mkdirSync(dir, { recursive: true });
    for (let k = 0; k < 3; k++) {
      const shade = Rng.derive(FIXTURE_SEED, 'jpeg', cls, k).int(30);
      const rgba = new Uint8Array(width * height * 4);
      for (let p = 0; p < width * height; p++) rgba.set([r - shade, g, b - shade, 255], p * 4);
      fs.writeFileSync(path.join(dir, `${k}.jpg`), jpeg.encode({ width, height, data: rgba }, 90).data);
    }
  }
}

/** Images of different sizes (and a non-image file) for the size-mismatch and resize tests. */
function writeMixedSizes(): void {
  const root = path.join(OUT, 'mixed-sizes');
  const sizes: [string, number, number][] = [
    ['a/big.png', 16, 12],
    ['a/small.png', 6, 6],
    ['b/mid.png', 10, 10],
  ];
  for (const [file, width, height] of sizes) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    // A left-to-right ramp from black to white: easy to check after resizing.
    const rgba = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = Math.round((255 * x) / (width - 1));
        rgba.set([v, v, v, 255], (y * width + x) * 4);
      }
    }
    writePng(path.join(root, file), width, height, rgba, 2);
  }
  fs.writeFileSync(path.join(root, 'b', 'notes.txt'), 'not an image\n');
}

/** Size of the format samples: odd sizes, so 1/2/4-bit rows end mid-byte and every Adam7 pass has pixels. */
const [FW, FH] = [11, 9];

/** Raw samples of every PNG variant, by file name (pixel index p = y * width + x). */
function pngVariants(): Record<string, Omit<RawPng, 'width' | 'height'>> {
  const at = (f: (p: number) => number[]) => (x: number, y: number) => f(y * FW + x);
  const palette = (n: number) => Array.from({ length: n }, (_, k) => [(k * 53) % 256, (k * 101 + 17) % 256, (k * 197 + 5) % 256] as [number, number, number]);
  const variants: Record<string, Omit<RawPng, 'width' | 'height'>> = {};
  for (const depth of [1, 2, 4, 8] as const) {
    variants[`gray-${depth}bit.png`] = { depth, colorType: COLOR_TYPES.gray, sample: at((p) => [(p * 7 + 3) % 2 ** depth]) };
    const entries = Math.min(2 ** depth, 12);
    variants[`palette-${depth}bit.png`] = { depth, colorType: COLOR_TYPES.palette, palette: palette(entries), sample: at((p) => [(p * 5) % entries]) };
  }
  // 16-bit values that are not multiples of 257: rescaling to 8 bits would change every one of them.
  variants['gray-16bit.png'] = { depth: 16, colorType: COLOR_TYPES.gray, sample: at((p) => [(p * 1637 + 311) % 65536]) };
  variants['palette-4bit-transparent.png'] = { depth: 4, colorType: COLOR_TYPES.palette, palette: palette(8), transparency: [0, 64, 128, 192, 255, 255, 32, 0], sample: at((p) => [p % 8]) };
  variants['gray-8bit-transparent-key.png'] = { depth: 8, colorType: COLOR_TYPES.gray, transparency: [111], sample: at((p) => [(p * 37) % 256]) };
  variants['rgb-8bit.png'] = { depth: 8, colorType: COLOR_TYPES.rgb, sample: at((p) => [(p * 29) % 256, (p * 71 + 9) % 256, (p * 113 + 40) % 256]) };
  variants['rgb-16bit.png'] = { depth: 16, colorType: COLOR_TYPES.rgb, sample: at((p) => [(p * 1637 + 1) % 65536, (p * 4099 + 7) % 65536, (p * 911 + 3) % 65536]) };
  variants['gray-alpha-8bit.png'] = { depth: 8, colorType: COLOR_TYPES.grayAlpha, sample: at((p) => [(p * 37) % 256, (p * 61 + 5) % 256]) };
  variants['gray-alpha-16bit.png'] = { depth: 16, colorType: COLOR_TYPES.grayAlpha, sample: at((p) => [(p * 1637) % 65536, (p * 2731 + 5) % 65536]) };
  variants['rgba-8bit.png'] = { depth: 8, colorType: COLOR_TYPES.rgba, sample: at((p) => [(p * 29) % 256, (p * 71) % 256, (p * 113) % 256, (p * 61 + 5) % 256]) };
  variants['rgba-16bit.png'] = { depth: 16, colorType: COLOR_TYPES.rgba, sample: at((p) => [(p * 1637) % 65536, (p * 4099) % 65536, (p * 911) % 65536, (p * 2731 + 5) % 65536]) };
  variants['gray-1bit-interlaced.png'] = { ...variants['gray-1bit.png'], interlace: true };
  variants['rgba-16bit-interlaced.png'] = { ...variants['rgba-16bit.png'], interlace: true };
  return variants;
}

/** What a decoder must give for one file: RGBA samples on a 0..max scale, row-major. */
interface ExpectedPixels {
  width: number;
  height: number;
  max: number;
  rgba: number[];
}

/** The RGBA samples a variant stands for (palette colours looked up, tRNS applied). */
function expectedRgba(v: Omit<RawPng, 'width' | 'height'>): ExpectedPixels {
  const max = v.colorType === COLOR_TYPES.palette ? 255 : 2 ** v.depth - 1;
  const rgba: number[] = [];
  for (let y = 0; y < FH; y++) {
    for (let x = 0; x < FW; x++) {
      const s = v.sample(x, y);
      switch (v.colorType) {
        case COLOR_TYPES.gray:
          rgba.push(s[0], s[0], s[0], v.transparency?.[0] === s[0] ? 0 : max);
          break;
        case COLOR_TYPES.palette:
          rgba.push(...(v.palette as number[][])[s[0]], v.transparency?.[s[0]] ?? 255);
          break;
        case COLOR_TYPES.grayAlpha:
          rgba.push(s[0], s[0], s[0], s[1]);
          break;
        case COLOR_TYPES.rgb:
          rgba.push(s[0], s[1], s[2], max);
          break;
        default:
          rgba.push(...s);
      }
    }
  }
  return { width: FW, height: FH, max, rgba };
}

/** One PNG per bit depth and colour type, and the samples each decodes to (see the module comment). */
function writePngFormats(): void {
  const dir = path.join(OUT, 'formats', 'png');
  fs.mkdirSync(dir, { recursive: true });
  const expected: Record<string, ExpectedPixels> = {};
  for (const [name, variant] of Object.entries(pngVariants())) {
    fs.writeFileSync(path.join(dir, name), encodePng({ width: FW, height: FH, ...variant }));
    expected[name] = expectedRgba(variant);
  }
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(expected) + '\n');
}

/** A baseline JPEG from jpeg-js of a smooth gradient (JPEG loses little on it), and its source pixels. */
function writeJpegJsFormats(): void {
  const dir = path.join(OUT, 'formats', 'jpeg-js');
  fs.mkdirSync(dir, { recursive: true });
  const [width, height] = [16, 16];
  const rgba: number[] = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgba.push(40 + x * 10, 40 + y * 10, 200 - x * 5, 255);
  fs.writeFileSync(path.join(dir, 'baseline.jpg'), jpeg.encode({ width, height, data: Buffer.from(rgba) }, 95).data);
  const expected: Record<string, ExpectedPixels> = { 'baseline.jpg': { width, height, max: 255, rgba } };
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(expected) + '\n');
}

/**
 * A flat folder (no class subfolders) of 16x16 RGB images, PNG and JPEG, the way a folder of cat
 * faces comes: soft blobs of a random colour on a random background.
 */
function writeFlatRgb(): void {
  const root = path.join(OUT, 'flat-rgb');
  fs.mkdirSync(root, { recursive: true });
  const size = 16;
  for (let k = 0; k < 12; k++) {
    const rng = Rng.derive(FIXTURE_SEED, 'flat-rgb', k);
    const fg = [rng.int(256), rng.int(256), rng.int(256)];
    const bg = [rng.int(256), rng.int(256), rng.int(256)];
    const [cx, cy, r] = [4 + rng.int(8), 4 + rng.int(8), 3 + rng.int(4)];
    const rgba = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const t = Math.max(0, Math.min(1, r + 0.5 - Math.hypot(x - cx, y - cy)));
        rgba.set([0, 1, 2].map((c) => Math.round(fg[c] * t + bg[c] * (1 - t))).concat(255), (y * size + x) * 4);
      }
    }
    const name = `cat-${String(k).padStart(2, '0')}`;
    if (k % 3 === 2) fs.writeFileSync(path.join(root, `${name}.jpg`), jpeg.encode({ width: size, height: size, data: rgba }, 92).data);
    else writePng(path.join(root, `${name}.png`), size, size, rgba, 2);
  }
}

// formats/pil/ is the Python script's; everything else here is this script's to rewrite.
for (const entry of ['mnist-100', 'omniglot-tiny', 'rgb-jpeg', 'mixed-sizes', 'flat-rgb', path.join('formats', 'png'), path.join('formats', 'jpeg-js')]) {
  fs.rmSync(path.join(OUT, entry), { recursive: true, force: true });
}
writeMnistSlice();
writeOmniglot();
writeRgbJpegs();
writeMixedSizes();
writePngFormats();
writeJpegJsFormats();
writeFlatRgb();
process.stdout.write(`wrote ${OUT}\n`);
