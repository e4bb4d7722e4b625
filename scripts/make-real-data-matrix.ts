/**
 * The data sets of the real-data test matrix (test/e2e/real-data-matrix.test.ts): image folders
 * and IDX files the way people have them, drawn from formulas and a fixed seed, so a rerun writes
 * the same bytes. The test writes them into a temporary folder; to look at them:
 *
 *   npx tsx scripts/make-real-data-matrix.ts /tmp/aekit-matrix
 *
 * Each set is one data case of the matrix:
 * - `flat`: 14 RGB images (20x20; PNG and JPEG) in one folder, no class subfolders: unlabelled;
 * - `single-class`: 12 grayscale PNGs (16x16) in one class folder;
 * - `five`: 5 RGB images (16x16) in two classes (3 + 2): fewer than any batch, a 0-image test split;
 * - `rgb64`: 64x64 RGB, 2 classes of 8 (PNG and JPEG): the DCGAN tutorial's size;
 * - `omniglot105`: 105x105 1-bit PNGs in Omniglot's `alphabet/character/` layout, 2 x 3 characters of 5 drawings;
 * - `mixed`: 2 classes whose images are every PNG variant (1/16-bit, palette with transparency,
 *   gray+alpha, interlaced, a PNG named .jpg) and JPEGs (baseline here; progressive and CMYK from
 *   fixtures/data/formats/pil, scripts/make-jpeg-fixtures.py's outputs) of varied sizes, among junk:
 *   text files, a GIF, an empty file, a truncated JPEG, a PNG with a bad checksum, hidden and system files;
 * - `idx`: a gzipped IDX image/label pair, 28x28, 3 classes of 12.
 *
 * Pictures are simple shapes per class (disc, square, cross, ring, ...), each drawing with its own
 * position, size and colours, so that classes differ and images within a class vary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { Rng } from '../src/core/rng';
import { COLOR_TYPES, encodePng } from './png-writer';

/** Seed of every drawing (each derives its own stream from it, the set, the class and the index). */
export const MATRIX_SEED = 20260114;

/** The data cases, in the matrix's order. */
export const MATRIX_SETS = ['flat', 'single-class', 'five', 'rgb64', 'omniglot105', 'mixed', 'idx'] as const;
/** See {@link MATRIX_SETS}. */
export type MatrixSetName = (typeof MATRIX_SETS)[number];

/** What the script wrote for one set, and what a loader must find there. */
export interface MatrixSet {
  name: MatrixSetName;
  /** The folder (image sets) or the IDX image file. */
  path: string;
  /** The IDX label file (set `idx` only). */
  labels?: string;
  /** Images a loader must read. */
  images: number;
  /** Class names a folder loader must find (sorted; empty for a flat folder). */
  classNames: string[];
  /** Files a folder loader must skip, counted by reason (hidden and system files are not counted). */
  skipped: Record<string, number>;
  /** The images' own size (the largest, where sizes vary) and channels. */
  height: number;
  width: number;
  channels: 1 | 3;
}

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'data');

/** One picture: RGBA bytes, row-major. */
interface Picture {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Coverage of the shape of class `cls` at (x, y) in [0, 1]^2, centre (cx, cy), radius r; anti-aliased by the caller. */
function inside(cls: number, x: number, y: number, cx: number, cy: number, r: number): boolean {
  const [dx, dy] = [x - cx, y - cy];
  switch (cls % 6) {
    case 0:
      return Math.hypot(dx, dy) <= r; // disc
    case 1:
      return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85; // square
    case 2:
      return (Math.abs(dx) <= r * 0.3 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.3 && Math.abs(dx) <= r); // cross
    case 3:
      return Math.abs(Math.hypot(dx, dy) - r * 0.75) <= r * 0.25; // ring
    case 4:
      return dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= (dy + r) * 0.55; // triangle
    default:
      return Math.abs(dx) <= r && Math.abs(dy) <= r && Math.floor(((dx + r) / r) * 2) % 2 === 0; // stripes
  }
}

/** A shape of class `cls` in a colour on a background, both drawn from `rng`; 2x2 supersampled. */
function drawShape(rng: Rng, cls: number, width: number, height: number, gray = false): Picture {
  const colour = () => (gray ? new Array(3).fill(rng.int(256)) : [rng.int(256), rng.int(256), rng.int(256)]);
  let [fg, bg] = [colour(), colour()];
  // Keep the shape visible: at least 80 levels between shape and background on some channel.
  if (Math.max(...fg.map((v, c) => Math.abs(v - bg[c]))) < 80) bg = fg.map((v) => (v > 127 ? v - 120 : v + 120));
  const [cx, cy, r] = [0.35 + 0.3 * rng.next(), 0.35 + 0.3 * rng.next(), 0.2 + 0.12 * rng.next()];
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let cover = 0;
      for (const [sx, sy] of [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]) cover += inside(cls, (x + sx) / width, (y + sy) / height, cx, cy, r) ? 0.25 : 0;
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) rgba[p + c] = Math.round(fg[c] * cover + bg[c] * (1 - cover));
      rgba[p + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/** An 8-bit RGB PNG (gray=true: 8-bit grayscale) of a picture. */
function png8(picture: Picture, gray = false): Buffer {
  const { width, height, rgba } = picture;
  const at = (x: number, y: number) => (y * width + x) * 4;
  return gray
    ? encodePng({ width, height, depth: 8, colorType: COLOR_TYPES.gray, sample: (x, y) => [rgba[at(x, y)]] })
    : encodePng({ width, height, depth: 8, colorType: COLOR_TYPES.rgb, sample: (x, y) => [rgba[at(x, y)], rgba[at(x, y) + 1], rgba[at(x, y) + 2]] });
}

function jpg(picture: Picture, quality = 90): Buffer {
  return Buffer.from(jpeg.encode({ width: picture.width, height: picture.height, data: picture.rgba }, quality).data);
}

function write(file: string, bytes: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
}

const name2 = (k: number) => String(k).padStart(2, '0');

function writeFlat(root: string): MatrixSet {
  const count = 14;
  for (let k = 0; k < count; k++) {
    const picture = drawShape(Rng.derive(MATRIX_SEED, 'flat', k), k % 3, 20, 20);
    write(path.join(root, k % 4 === 3 ? `photo-${name2(k)}.jpg` : `photo-${name2(k)}.png`), k % 4 === 3 ? jpg(picture) : png8(picture));
  }
  return { name: 'flat', path: root, images: count, classNames: [], skipped: {}, height: 20, width: 20, channels: 3 };
}

function writeSingleClass(root: string): MatrixSet {
  const count = 12;
  for (let k = 0; k < count; k++) write(path.join(root, 'sevens', `${name2(k)}.png`), png8(drawShape(Rng.derive(MATRIX_SEED, 'single', k), 2, 16, 16, true), true));
  return { name: 'single-class', path: root, images: count, classNames: ['sevens'], skipped: {}, height: 16, width: 16, channels: 1 };
}

function writeFive(root: string): MatrixSet {
  const classes: [string, number][] = [
    ['discs', 3],
    ['squares', 2],
  ];
  classes.forEach(([cls, n], c) => {
    for (let k = 0; k < n; k++) write(path.join(root, cls, `${k}.png`), png8(drawShape(Rng.derive(MATRIX_SEED, 'five', c, k), c, 16, 16)));
  });
  return { name: 'five', path: root, images: 5, classNames: ['discs', 'squares'], skipped: {}, height: 16, width: 16, channels: 3 };
}

function writeRgb64(root: string): MatrixSet {
  const perClass = 8;
  for (const [c, cls] of ['cats', 'dogs'].entries()) {
    for (let k = 0; k < perClass; k++) {
      const picture = drawShape(Rng.derive(MATRIX_SEED, 'rgb64', c, k), c + 3, 64, 64);
      write(path.join(root, cls, k % 2 === 0 ? `${cls}-${k}.jpg` : `${cls}-${k}.png`), k % 2 === 0 ? jpg(picture, 92) : png8(picture));
    }
  }
  return { name: 'rgb64', path: root, images: 2 * perClass, classNames: ['cats', 'dogs'], skipped: {}, height: 64, width: 64, channels: 3 };
}

/** Omniglot's size and format: 105x105, 1 bit per pixel, black strokes (0) on white (1). */
const GLYPH = 105;

/** A character: 3 strokes between points of a 5x5 grid; each drawing moves the ends a little. */
function writeOmniglot105(root: string): MatrixSet {
  const classNames: string[] = [];
  let images = 0;
  for (const alphabet of ['Alphabet_of_the_Magi', 'Futurama']) {
    for (const character of ['character01', 'character02', 'character03']) {
      classNames.push(`${alphabet}/${character}`);
      const template = Rng.derive(MATRIX_SEED, 'omniglot', alphabet, character);
      const strokes = Array.from({ length: 3 }, () => [0, 1, 2, 3].map(() => 15 + 19 * template.int(5)));
      for (let k = 0; k < 5; k++) {
        const rng = Rng.derive(MATRIX_SEED, 'omniglot', alphabet, character, k);
        const drawn = strokes.map((s) => s.map((v) => v + rng.int(9) - 4));
        const width = 2 + rng.int(3);
        const ink = (x: number, y: number) =>
          drawn.some(([x0, y0, x1, y1]) => {
            const [dx, dy] = [x1 - x0, y1 - y0];
            const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / Math.max(1, dx * dx + dy * dy)));
            return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= width;
          });
        write(path.join(root, alphabet, character, `${character}_${k + 1}.png`), encodePng({ width: GLYPH, height: GLYPH, depth: 1, colorType: COLOR_TYPES.gray, sample: (x, y) => [ink(x, y) ? 0 : 1] }));
        images++;
      }
    }
  }
  return { name: 'omniglot105', path: root, images, classNames, skipped: {}, height: GLYPH, width: GLYPH, channels: 1 };
}

/** Every PNG variant and JPEG flavour in two classes, with junk around them (see the module comment). */
function writeMixed(root: string): MatrixSet {
  let images = 0;
  const sizes: [number, number][] = [
    [24, 24],
    [32, 20],
    [18, 30],
  ];
  for (const [c, cls] of ['circles', 'crosses'].entries()) {
    const dir = path.join(root, cls);
    const shape = c === 0 ? 0 : 2;
    const picture = (k: number) => {
      const [w, h] = sizes[k % sizes.length];
      return drawShape(Rng.derive(MATRIX_SEED, 'mixed', c, k), shape, w, h);
    };
    const variants: [string, (p: Picture) => Buffer][] = [
      ['rgb-8bit.png', (p) => png8(p)],
      ['gray-8bit.png', (p) => png8(p, true)],
      ['gray-1bit.png', (p) => encodePng({ width: p.width, height: p.height, depth: 1, colorType: COLOR_TYPES.gray, sample: (x, y) => [p.rgba[(y * p.width + x) * 4] > 127 ? 1 : 0] })],
      [
        'palette-4bit-transparent.png',
        (p) => {
          // 16 levels of the red channel, the darkest half-transparent (composited on white when read).
          const palette = Array.from({ length: 16 }, (_, i) => [i * 17, 255 - i * 17, 128] as [number, number, number]);
          return encodePng({ width: p.width, height: p.height, depth: 4, colorType: COLOR_TYPES.palette, palette, transparency: [128], sample: (x, y) => [p.rgba[(y * p.width + x) * 4] >> 4] });
        },
      ],
      ['gray-alpha-16bit.png', (p) => encodePng({ width: p.width, height: p.height, depth: 16, colorType: COLOR_TYPES.grayAlpha, sample: (x, y) => [p.rgba[(y * p.width + x) * 4 + 1] * 257, 65535] })],
      [
        'rgba-16bit-interlaced.png',
        (p) =>
          encodePng({
            width: p.width,
            height: p.height,
            depth: 16,
            colorType: COLOR_TYPES.rgba,
            interlace: true,
            sample: (x, y) => [0, 1, 2].map((ch) => p.rgba[(y * p.width + x) * 4 + ch] * 257).concat(65535),
          }),
      ],
      ['baseline.jpg', (p) => jpg(p)],
      ['upper-case.JPEG', (p) => jpg(p, 75)],
      ['png-named.jpg', (p) => png8(p)],
    ];
    variants.forEach(([file, encode], k) => {
      write(path.join(dir, file), encode(picture(k)));
      images++;
    });
    for (const file of ['progressive.jpg', 'cmyk.jpg']) {
      fs.copyFileSync(path.join(FIXTURES, 'formats', 'pil', file), path.join(dir, file));
      images++;
    }
  }
  // Junk that is skipped and counted...
  write(path.join(root, 'README.txt'), 'Two classes of shapes in every format aekit reads.\n');
  write(path.join(root, 'circles', 'labels.csv'), 'file,label\nrgb-8bit.png,circle\n');
  write(path.join(root, 'circles', 'animation.gif'), Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
  write(path.join(root, 'circles', 'empty.png'), Buffer.alloc(0));
  const truncated = jpg(drawShape(Rng.derive(MATRIX_SEED, 'mixed', 'truncated'), 2, 24, 24));
  write(path.join(root, 'crosses', 'copy-interrupted.jpg'), truncated.subarray(0, Math.floor(truncated.length / 2)));
  const corrupt = Buffer.from(png8(drawShape(Rng.derive(MATRIX_SEED, 'mixed', 'corrupt'), 2, 24, 24)));
  corrupt[corrupt.length - 20] ^= 0xff; // a byte of the IDAT data: its chunk fails its checksum
  write(path.join(root, 'crosses', 'bad-checksum.png'), corrupt);
  // ... and hidden or system entries, passed over without a count.
  write(path.join(root, '.DS_Store'), Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
  write(path.join(root, 'circles', 'Thumbs.db'), Buffer.alloc(16, 7));
  write(path.join(root, '__MACOSX', 'circles', '._rgb-8bit.png'), Buffer.alloc(32, 1));
  write(path.join(root, 'crosses', '.hidden.png'), png8(drawShape(Rng.derive(MATRIX_SEED, 'mixed', 'hidden'), 2, 8, 8)));
  return {
    name: 'mixed',
    path: root,
    images,
    classNames: ['circles', 'crosses'],
    skipped: { 'not an image': 2, 'unsupported image format': 1, 'empty file': 1, 'truncated JPEG': 1, 'corrupt PNG': 1 },
    height: 32,
    width: 32,
    channels: 3,
  };
}

/** An IDX file (magic 0x08 = unsigned bytes) of `dims` and bytes `data`. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

function writeIdx(root: string): MatrixSet {
  const [classes, perClass, size] = [3, 12, 28];
  const count = classes * perClass;
  const pixels = new Uint8Array(count * size * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    // Interleaved classes, as IDX sets come (not sorted by label).
    labels[i] = i % classes;
    const picture = drawShape(Rng.derive(MATRIX_SEED, 'idx', i), labels[i] + 1, size, size, true);
    for (let p = 0; p < size * size; p++) pixels[i * size * size + p] = picture.rgba[p * 4];
  }
  const images = path.join(root, 'shapes-train-images-idx3-ubyte.gz');
  const labelFile = path.join(root, 'shapes-train-labels-idx1-ubyte.gz');
  write(images, zlib.gzipSync(idx([count, size, size], pixels), { level: 9 }));
  write(labelFile, zlib.gzipSync(idx([count], labels), { level: 9 }));
  return { name: 'idx', path: images, labels: labelFile, images: count, classNames: ['0', '1', '2'], skipped: {}, height: size, width: size, channels: 1 };
}

const WRITERS: Record<MatrixSetName, (root: string) => MatrixSet> = {
  flat: writeFlat,
  'single-class': writeSingleClass,
  five: writeFive,
  rgb64: writeRgb64,
  omniglot105: writeOmniglot105,
  mixed: writeMixed,
  idx: writeIdx,
};

/** Write every set of the matrix into `<root>/<set>/` (replacing what is there) and say what each holds. */
export function makeRealDataMatrix(root: string): Record<MatrixSetName, MatrixSet> {
  const sets = {} as Record<MatrixSetName, MatrixSet>;
  for (const name of MATRIX_SETS) {
    const dir = path.join(root, name);
    fs.rmSync(dir, { recursive: true, force: true });
    sets[name] = WRITERS[name](dir);
  }
  return sets;
}

if (require.main === module) {
  const root = process.argv[2];
  if (!root) {
    process.stderr.write('usage: npx tsx scripts/make-real-data-matrix.ts <folder>\n');
    process.exit(2);
  }
  for (const set of Object.values(makeRealDataMatrix(path.resolve(root)))) process.stdout.write(`${set.name}: ${set.images} images, ${set.classNames.length} classes: ${set.path}\n`);
}
