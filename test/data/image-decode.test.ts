import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { SKIP_REASONS } from '../../src/data/decode-types';
import { decodeImage, toChannels } from '../../src/data/image-decode';
import { applyOrientation } from '../../src/data/jpeg';
import { loadImageFolder } from '../../src/data/image-folder';
import { FIXTURES } from './helpers';

/** What a file must decode to (fixtures/data/formats/<kind>/expected.json; see the fixture scripts). */
interface Expected {
  width: number;
  height: number;
  max: number;
  rgba: number[];
}

const FORMATS = path.join(FIXTURES, 'formats');

function expectations(kind: string): [string, Expected][] {
  return Object.entries(JSON.parse(fs.readFileSync(path.join(FORMATS, kind, 'expected.json'), 'utf8')) as Record<string, Expected>);
}

function decodeFixture(kind: string, name: string) {
  const result = decodeImage(fs.readFileSync(path.join(FORMATS, kind, name)));
  assert.ok(result.ok, `${name}: ${result.ok ? '' : `${result.reason}: ${result.detail}`}`);
  return result.image;
}

/** Largest and mean absolute difference (0-255 scale) over the colour of visible pixels and all alphas. */
function difference(rgba: Float32Array, expected: Expected): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < expected.rgba.length; i++) {
    const invisible = expected.rgba[i - (i % 4) + 3] === 0 && i % 4 !== 3;
    if (invisible) continue;
    // The decoder stores float32: compare with the float32 nearest the exact value.
    const d = Math.abs(rgba[i] - Math.fround(expected.rgba[i] / expected.max)) * 255;
    max = Math.max(max, d);
    sum += d;
    n++;
  }
  return { max, mean: sum / n };
}

/** Slack for float32 rounding when comparing differences in 0-255 levels. */
const LEVEL_EPSILON = 1e-4;

/**
 * How far jpeg-js may differ from libjpeg-turbo (PIL) on the same file, in 0-255 steps: the two
 * use different integer IDCTs, which round differently by a level or two (measured: at most 3).
 */
const IDCT_TOLERANCE = 3;
/**
 * With 4:2:0 chroma subsampling, jpeg-js repeats each chroma sample over 2x2 pixels where
 * libjpeg-turbo interpolates ("fancy upsampling"); on the fixture's colour gradient that differs by
 * up to 14 levels at single pixels, 2-3 on average.
 */
const SUBSAMPLED_CHROMA_TOLERANCE = { max: 16, mean: 4 };

describe('data/image-decode', () => {
  describe('PNG: every bit depth and colour type decodes to its exact samples', () => {
    for (const [name, expected] of expectations('png')) {
      it(name, () => {
        const image = decodeFixture('png', name);
        assert.deepEqual([image.width, image.height], [expected.width, expected.height]);
        assert.equal(difference(image.rgba, expected).max, 0);
      });
    }

    it('keeps 16-bit samples at 16-bit precision (not rounded to 8 bits)', () => {
      const [, expected] = expectations('png').find(([name]) => name === 'gray-16bit.png')!;
      const image = decodeFixture('png', 'gray-16bit.png');
      const sample = expected.rgba[4]; // pixel 1, red
      assert.ok(sample % 257 !== 0, 'the fixture value is not an 8-bit level');
      assert.ok(Math.abs(image.rgba[4] - sample / 65535) < 1e-7);
      assert.ok(Math.abs(image.rgba[4] - Math.round((sample / 65535) * 255) / 255) > 1e-4, 'an 8-bit rescale would differ');
    });

    it('composites transparency on white (palette tRNS, gray key, alpha channels)', () => {
      for (const name of ['palette-4bit-transparent.png', 'gray-8bit-transparent-key.png', 'gray-alpha-16bit.png', 'rgba-8bit.png']) {
        const [, expected] = expectations('png').find(([n]) => n === name)!;
        const rgb = toChannels(decodeFixture('png', name), 3);
        for (let p = 0; p < expected.width * expected.height; p++) {
          const alpha = expected.rgba[4 * p + 3] / expected.max;
          for (let c = 0; c < 3; c++) {
            const want = (expected.rgba[4 * p + c] / expected.max) * alpha + (1 - alpha);
            assert.ok(Math.abs(rgb[3 * p + c] - want) < 1e-6, `${name} pixel ${p} channel ${c}: ${rgb[3 * p + c]} vs ${want}`);
          }
        }
      }
    });
  });

  describe('JPEG', () => {
    it('baseline (jpeg-js encoder) decodes close to its source pixels', () => {
      const [[name, expected]] = expectations('jpeg-js');
      const { max } = difference(decodeFixture('jpeg-js', name).rgba, expected);
      assert.ok(max <= 4 + LEVEL_EPSILON, `max difference ${max} levels (quality 95)`);
    });

    for (const [name, expected] of expectations('pil')) {
      it(`${name} decodes as libjpeg-turbo does${name.startsWith('orientation') ? ', turned upright' : ''}`, () => {
        const image = decodeFixture('pil', name);
        assert.deepEqual([image.width, image.height], [expected.width, expected.height]);
        const { max, mean } = difference(image.rgba, expected);
        if (name === 'baseline-420.jpg') {
          assert.ok(max <= SUBSAMPLED_CHROMA_TOLERANCE.max && mean <= SUBSAMPLED_CHROMA_TOLERANCE.mean, `max ${max}, mean ${mean.toFixed(2)}`);
        } else {
          assert.ok(max <= IDCT_TOLERANCE + LEVEL_EPSILON, `max difference ${max} levels`);
        }
      });
    }

    it('applies each EXIF orientation as the TIFF definition says', () => {
      // 3 wide, 2 high: pixel values 0..5 in the red channel.
      const stored = { width: 3, height: 2, rgba: Float32Array.from([0, 1, 2, 3, 4, 5].flatMap((v) => [v, 0, 0, 1])) };
      const red = (o: number) => {
        const out = applyOrientation(stored, o);
        return { size: [out.width, out.height], red: Array.from({ length: out.width * out.height }, (_, p) => out.rgba[4 * p]) };
      };
      assert.deepEqual(red(1), { size: [3, 2], red: [0, 1, 2, 3, 4, 5] });
      assert.deepEqual(red(2), { size: [3, 2], red: [2, 1, 0, 5, 4, 3] });
      assert.deepEqual(red(3), { size: [3, 2], red: [5, 4, 3, 2, 1, 0] });
      assert.deepEqual(red(4), { size: [3, 2], red: [3, 4, 5, 0, 1, 2] });
      assert.deepEqual(red(5), { size: [2, 3], red: [0, 3, 1, 4, 2, 5] });
      assert.deepEqual(red(6), { size: [2, 3], red: [3, 0, 4, 1, 5, 2] });
      assert.deepEqual(red(7), { size: [2, 3], red: [5, 2, 4, 1, 3, 0] });
      assert.deepEqual(red(8), { size: [2, 3], red: [2, 5, 1, 4, 0, 3] });
    });
  });

  describe('files that do not decode come back with a reason, not an exception', () => {
    /** `bytes` with the data of its first `chunk` chunk overwritten (its checksum then fails). */
    const damaged = (bytes: Buffer, chunk: string) => {
      const out = Buffer.from(bytes);
      const at = out.indexOf(chunk) + 4;
      out.fill(0x42, at, at + 8);
      return out;
    };
    const png = fs.readFileSync(path.join(FORMATS, 'png', 'rgb-8bit.png'));
    const jpg = fs.readFileSync(path.join(FORMATS, 'pil', 'progressive.jpg'));
    const cases: [string, Buffer, string, string?][] = [
      ['an empty file', Buffer.alloc(0), SKIP_REASONS.emptyFile],
      ['a PNG cut short', png.subarray(0, png.length - 40), SKIP_REASONS.truncatedPng],
      ['a PNG with damaged image data', damaged(png, 'IDAT'), SKIP_REASONS.corruptPng],
      ['a JPEG cut short', jpg.subarray(0, Math.floor(jpg.length / 2)), SKIP_REASONS.truncatedJpeg],
      ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), SKIP_REASONS.unsupportedFormat, 'GIF'],
      ['a WebP', Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1'), SKIP_REASONS.unsupportedFormat, 'WebP'],
      ['text', Buffer.from('hello, world'), SKIP_REASONS.notImage, 'unknown content'],
    ];
    for (const [what, bytes, reason, kind] of cases) {
      it(what, () => {
        const result = decodeImage(bytes);
        assert.ok(!result.ok);
        assert.equal(result.reason, reason);
        if (kind) assert.equal(result.kind, kind);
        assert.ok(result.detail.length > 0);
      });
    }

    it('a PNG with an invalid bit depth is an unsupported variant', () => {
      const bad = Buffer.from(png);
      bad[24] = 3; // IHDR bit depth
      // Keep the CRC valid so that the bit depth, not the checksum, is what is wrong.
      const crc = zlib.crc32(bad.subarray(12, 29)) >>> 0;
      bad.writeUInt32BE(crc, 29);
      const result = decodeImage(bad);
      assert.ok(!result.ok);
      assert.equal(result.reason, SKIP_REASONS.unsupportedPng);
      assert.equal(result.kind, 'RGB at bit depth 3');
      assert.match(result.detail, /bit depth 3 is not allowed for RGB images/);
    });

    it('arithmetic-coded and 12-bit JPEGs are unsupported variants, named', () => {
      const sof = jpg.indexOf(Buffer.from([0xff, 0xc2]));
      assert.ok(sof > 0, 'the fixture is progressive (SOF2)');
      const arithmetic = Buffer.from(jpg);
      arithmetic[sof + 1] = 0xca;
      const result = decodeImage(arithmetic);
      assert.ok(!result.ok && result.reason === SKIP_REASONS.unsupportedJpeg && result.kind === 'arithmetic coding (progressive)');
      const twelveBit = Buffer.from(jpg);
      twelveBit[sof + 4] = 12; // sample precision
      const result12 = decodeImage(twelveBit);
      assert.ok(!result12.ok && result12.reason === SKIP_REASONS.unsupportedJpeg && result12.kind === '12-bit');
    });

    it('a CMYK JPEG without the Adobe marker (colour model unknown) is an unsupported variant', () => {
      const cmyk = fs.readFileSync(path.join(FORMATS, 'pil', 'cmyk.jpg'));
      const app14 = cmyk.indexOf(Buffer.from([0xff, 0xee]));
      assert.ok(app14 > 0, 'the fixture has an Adobe APP14 segment');
      const length = cmyk.readUInt16BE(app14 + 2);
      const stripped = Buffer.concat([cmyk.subarray(0, app14), cmyk.subarray(app14 + 2 + length)]);
      const result = decodeImage(stripped);
      assert.ok(!result.ok && result.reason === SKIP_REASONS.unsupportedJpeg && result.kind === 'CMYK without Adobe marker');
    });
  });

  it('a folder of every PNG variant reads as one unlabelled set, composited, skipping expected.json', async () => {
    const ds = await loadImageFolder(path.join(FORMATS, 'png'), { channels: 1 });
    const expected = expectations('png');
    assert.equal(ds.count, expected.length);
    assert.deepEqual(ds.classNames, []);
    assert.ok(ds.labels.every((l) => l === -1));
    assert.deepEqual(ds.report.skipped, { 'not an image': 1 });
    assert.deepEqual(ds.report.skippedFiles, [{ file: 'expected.json', reason: 'not an image', kind: '.json' }]);
    const byName = new Map(expected);
    ds.files.forEach((file, n) => {
      const e = byName.get(file)!;
      for (let p = 0; p < e.width * e.height; p++) {
        const alpha = e.rgba[4 * p + 3] / e.max;
        const [r, g, b] = [0, 1, 2].map((c) => (e.rgba[4 * p + c] / e.max) * alpha + 1 - alpha);
        assert.ok(Math.abs(ds.images[n * e.width * e.height + p] - (0.299 * r + 0.587 * g + 0.114 * b)) < 1e-6, `${file} pixel ${p}`);
      }
    });
  });
});
