/**
 * Regenerates fixtures/data/ (run: `npx tsx scripts/make-data-fixtures.ts`). Everything is derived
 * from bundled MNIST and a fixed seed, so a rerun reproduces the committed bytes; never edit the
 * fixtures by hand. Bad files for error tests are made by the tests themselves in a temp folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng';
import { mnistDataDir } from '../src/data/mnist';

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

fs.rmSync(OUT, { recursive: true, force: true });
writeMnistSlice();
writeOmniglot();
writeRgbJpegs();
writeMixedSizes();
process.stdout.write(`wrote ${OUT}\n`);
