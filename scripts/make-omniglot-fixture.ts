/**
 * Regenerates fixtures/omniglot-mini/ (run: `npx tsx scripts/make-omniglot-fixture.ts`): an
 * Omniglot-layout folder (alphabet/character/NN.png, 28x28 grayscale, dark strokes on white like
 * Omniglot's scans) drawn from seeded random pen strokes, so a rerun reproduces the committed
 * bytes; never edit the fixture by hand. Nothing is downloaded.
 *
 * Each character is 2-3 smooth strokes (quadratic Bezier curves through random points); each
 * drawing of it moves the stroke points a little and applies a small random rotation, scale and
 * shift, so drawings of one character look alike and differ from other characters, as the
 * handwritten drawings of Omniglot do.
 *
 * With arguments it writes a larger synthetic set elsewhere (for the README's short study runs):
 *   npx tsx scripts/make-omniglot-fixture.ts OUT_DIR ALPHABETS CHARACTERS DRAWINGS
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng';

const FIXTURE_SEED = 20251123;
const SIZE = 28;
/** The committed fixture: 2 alphabets x 3 characters x 4 drawings (24 PNGs, about 10 KB). */
const FIXTURE = { alphabets: 2, characters: 3, drawings: 4 };
/** Pen width in pixels (Omniglot's strokes, downscaled from 105 to 28 pixels, are about 2 wide). */
const PEN_WIDTH = 1.8;
/** Stroke points lie in this band, leaving a margin for the per-drawing jitter. */
const MARGIN = 5;
/** Per-drawing changes: point jitter (pixels, standard deviation), rotation (radians), scale, shift (pixels). */
const JITTER = { point: 0.8, rotation: 0.12, scale: 0.08, shift: 1.2 };
/** Line segments per Bezier stroke when rasterising. */
const SEGMENTS = 24;

type Point = [number, number];

/** A character: strokes of three control points each. */
function makeCharacter(rng: Rng): Point[][] {
  const strokes = 2 + rng.int(2);
  const coordinate = () => MARGIN + rng.next() * (SIZE - 2 * MARGIN);
  return Array.from({ length: strokes }, () => Array.from({ length: 3 }, () => [coordinate(), coordinate()] as Point));
}

/** One drawing of a character: jittered points under a small random similarity transform. */
function drawing(character: Point[][], rng: Rng): Point[][] {
  const angle = (rng.next() * 2 - 1) * JITTER.rotation;
  const scale = 1 + (rng.next() * 2 - 1) * JITTER.scale;
  const [dx, dy] = [(rng.next() * 2 - 1) * JITTER.shift, (rng.next() * 2 - 1) * JITTER.shift];
  const centre = SIZE / 2;
  const [cos, sin] = [Math.cos(angle) * scale, Math.sin(angle) * scale];
  return character.map((stroke) =>
    stroke.map(([x, y]) => {
      const [jx, jy] = [x + rng.normal() * JITTER.point - centre, y + rng.normal() * JITTER.point - centre];
      return [centre + cos * jx - sin * jy + dx, centre + sin * jx + cos * jy + dy] as Point;
    }),
  );
}

/** Distance from point p to segment ab. */
function segmentDistance(p: Point, a: Point, b: Point): number {
  const [vx, vy] = [b[0] - a[0], b[1] - a[1]];
  const length2 = vx * vx + vy * vy;
  const t = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * vx + (p[1] - a[1]) * vy) / length2));
  return Math.hypot(p[0] - a[0] - t * vx, p[1] - a[1] - t * vy);
}

/** Rasterise strokes as grey bytes: ink 0 on paper 255, edges anti-aliased over one pixel. */
function rasterise(strokes: Point[][]): Uint8Array {
  const segments: [Point, Point][] = [];
  for (const [p0, p1, p2] of strokes) {
    const at = (t: number): Point => [(1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t * t * p2[0], (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t * t * p2[1]];
    for (let s = 0; s < SEGMENTS; s++) segments.push([at(s / SEGMENTS), at((s + 1) / SEGMENTS)]);
  }
  const grey = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const centre: Point = [x + 0.5, y + 0.5];
      let distance = Infinity;
      for (const [a, b] of segments) distance = Math.min(distance, segmentDistance(centre, a, b));
      const ink = Math.max(0, Math.min(1, PEN_WIDTH / 2 + 0.5 - distance));
      grey[y * SIZE + x] = Math.round(255 * (1 - ink));
    }
  }
  return grey;
}

function writeGreyPng(file: string, grey: Uint8Array): void {
  const png = new PNG({ width: SIZE, height: SIZE });
  for (let i = 0; i < grey.length; i++) png.data.set([grey[i], grey[i], grey[i], 255], i * 4);
  fs.writeFileSync(file, PNG.sync.write(png, { colorType: 0 }));
}

/** Write `alphabets` x `characters` x `drawings` PNGs under `out` (replacing it). */
export function writeOmniglotLike(out: string, alphabets: number, characters: number, drawings: number): number {
  fs.rmSync(out, { recursive: true, force: true });
  let written = 0;
  for (let a = 0; a < alphabets; a++) {
    for (let c = 0; c < characters; c++) {
      const dir = path.join(out, `alphabet${String(a + 1).padStart(2, '0')}`, `character${String(c + 1).padStart(2, '0')}`);
      fs.mkdirSync(dir, { recursive: true });
      const character = makeCharacter(Rng.derive(FIXTURE_SEED, 'character', a, c));
      for (let d = 0; d < drawings; d++) {
        writeGreyPng(path.join(dir, `${String(d + 1).padStart(2, '0')}.png`), rasterise(drawing(character, Rng.derive(FIXTURE_SEED, 'drawing', a, c, d))));
        written++;
      }
    }
  }
  return written;
}

if (require.main === module) {
  const [out, alphabets, characters, drawings] = process.argv.slice(2);
  const target = out ?? path.join(__dirname, '..', 'fixtures', 'omniglot-mini');
  const count = out
    ? writeOmniglotLike(target, Number(alphabets ?? 5), Number(characters ?? 10), Number(drawings ?? 20))
    : writeOmniglotLike(target, FIXTURE.alphabets, FIXTURE.characters, FIXTURE.drawings);
  process.stdout.write(`wrote ${count} images to ${target}\n`);
}
