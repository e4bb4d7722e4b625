import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '../../src/core/log';
import { loadImageFolder } from '../../src/data/image-folder';
import { resizeImage } from '../../src/data/resize';
import { expectAekitError, FIXTURES, tempDir, writeFile, writeGrayPng, writeRgbaPng } from './helpers';

const OMNIGLOT = path.join(FIXTURES, 'omniglot-tiny');
const JPEGS = path.join(FIXTURES, 'rgb-jpeg');
const MIXED = path.join(FIXTURES, 'mixed-sizes');

function image(ds: { images: Float32Array; height: number; width: number; channels: number }, n: number): Float32Array {
  const size = ds.height * ds.width * ds.channels;
  return ds.images.subarray(n * size, (n + 1) * size);
}

describe('data/image-folder', () => {
  let tmp: string;
  before(() => {
    tmp = tempDir('folder');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads the Omniglot layout: nested class names, sorted, grayscale', async () => {
    const ds = await loadImageFolder(OMNIGLOT, { channels: 1 });
    assert.equal(ds.name, OMNIGLOT);
    assert.deepEqual(ds.classNames, [
      'alphabet_a/character01',
      'alphabet_a/character02',
      'alphabet_a/character03',
      'alphabet_b/character01',
      'alphabet_b/character02',
      'alphabet_b/character03',
    ]);
    assert.equal(ds.count, 24);
    assert.deepEqual([ds.height, ds.width, ds.channels], [8, 8, 1]);
    assert.deepEqual(Array.from(ds.labels), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5]);
    assert.deepEqual(ds.files.slice(0, 5), [
      'alphabet_a/character01/0.png',
      'alphabet_a/character01/1.png',
      'alphabet_a/character01/2.png',
      'alphabet_a/character01/3.png',
      'alphabet_a/character02/0.png',
    ]);
    assert.deepEqual(ds.skipped, ['README.txt']);
    assert.deepEqual(ds.report.skipped, { 'not an image': 1 });
    assert.equal(ds.report.read, 24);
    assert.ok(ds.images.every((v) => v === 0 || v === 1), 'black strokes on white');
  });

  it('draws characters a nearest-centroid classifier can tell apart (leave one out)', async () => {
    const ds = await loadImageFolder(OMNIGLOT, { channels: 1 });
    let correct = 0;
    for (let n = 0; n < ds.count; n++) {
      let best = -1;
      let bestDistance = Infinity;
      for (let c = 0; c < ds.classNames.length; c++) {
        const centroid = new Float32Array(64);
        let members = 0;
        for (let m = 0; m < ds.count; m++) {
          if (m === n || ds.labels[m] !== c) continue;
          image(ds, m).forEach((v, i) => (centroid[i] += v));
          members++;
        }
        const x = image(ds, n);
        const distance = centroid.reduce((acc, v, i) => acc + (v / members - x[i]) ** 2, 0);
        if (distance < bestDistance) [best, bestDistance] = [c, distance];
      }
      if (best === ds.labels[n]) correct++;
    }
    assert.equal(correct, ds.count);
  });

  it('converts grayscale PNGs to RGB with equal channels, and honours limitPerClass', async () => {
    const ds = await loadImageFolder(OMNIGLOT, { channels: 3, limitPerClass: 2 });
    assert.equal(ds.count, 12);
    assert.equal(ds.channels, 3);
    assert.deepEqual(ds.files.slice(0, 3), [
      'alphabet_a/character01/0.png',
      'alphabet_a/character01/1.png',
      'alphabet_a/character02/0.png',
    ]);
    const gray = await loadImageFolder(OMNIGLOT, { channels: 1, limitPerClass: 2 });
    for (let p = 0; p < gray.images.length; p++) {
      for (let c = 0; c < 3; c++) assert.equal(ds.images[3 * p + c], gray.images[p]);
    }
  });

  it('resizes by area averaging when downscaling', async () => {
    const full = await loadImageFolder(OMNIGLOT, { channels: 1 });
    const small = await loadImageFolder(OMNIGLOT, { channels: 1, height: 4, width: 4 });
    assert.deepEqual([small.height, small.width, small.count], [4, 4, 24]);
    assert.equal(small.images.length, 24 * 16);
    const a = image(full, 5);
    const b = image(small, 5);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) {
        const mean = (a[2 * y * 8 + 2 * x] + a[2 * y * 8 + 2 * x + 1] + a[(2 * y + 1) * 8 + 2 * x] + a[(2 * y + 1) * 8 + 2 * x + 1]) / 4;
        assert.ok(Math.abs(b[y * 4 + x] - mean) < 1e-6);
      }
    }
  });

  it('reads RGB JPEGs (12 wide, 10 high) in RGB and grayscale', async () => {
    const ds = await loadImageFolder(JPEGS, { channels: 3 });
    assert.deepEqual(ds.classNames, ['blue', 'red']);
    assert.equal(ds.count, 6);
    assert.deepEqual([ds.height, ds.width, ds.channels], [10, 12, 3]);
    for (let n = 0; n < ds.count; n++) {
      const px = image(ds, n);
      const [r, g, b] = [px[0], px[1], px[2]];
      // Fixture colours: blue class ~(40-s, 60, 220-s), red class ~(220-s, 40, 40-s), s < 30; JPEG is lossy.
      if (ds.labels[n] === 0) assert.ok(b > 0.7 && r < 0.25 && Math.abs(g - 60 / 255) < 0.05, `blue ${r},${g},${b}`);
      else assert.ok(r > 0.7 && b < 0.2 && Math.abs(g - 40 / 255) < 0.05, `red ${r},${g},${b}`);
    }
    const gray = await loadImageFolder(JPEGS, { channels: 1 });
    assert.equal(gray.channels, 1);
    const px = image(ds, 0);
    assert.ok(Math.abs(gray.images[0] - (0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2])) < 1e-6);
  });

  it('rejects mixed sizes without a target size, naming the file and both sizes', async () => {
    await expectAekitError(
      () => loadImageFolder(MIXED, { channels: 1 }),
      'BAD_DATA',
      path.join(MIXED, 'a', 'small.png'),
      '6x6',
      '16x12',
      path.join(MIXED, 'a', 'big.png'),
    );
    await expectAekitError(
      () => loadImageFolder(MIXED, { channels: 1, height: 12, width: 16, resize: false }),
      'BAD_DATA',
      path.join(MIXED, 'a', 'small.png'),
      'requested size',
    );
  });

  it('resizes mixed sizes to the target and skips non-image files', async () => {
    const ds = await loadImageFolder(MIXED, { channels: 1, height: 8, width: 8, logger: silentLogger });
    assert.deepEqual([ds.count, ds.height, ds.width], [3, 8, 8]);
    assert.deepEqual(ds.skipped, ['b/notes.txt']);
    assert.deepEqual(ds.files, ['a/big.png', 'a/small.png', 'b/mid.png']);
    for (let n = 0; n < 3; n++) {
      const row = Array.from(image(ds, n).subarray(0, 8));
      for (let x = 1; x < 8; x++) assert.ok(row[x] > row[x - 1], `ramp stays increasing: ${row}`);
      assert.ok(row[0] < 0.15 && row[7] > 0.85, `ramp spans black to white: ${row}`);
    }
  });

  it('composites transparency on white', async () => {
    const root = path.join(tmp, 'alpha');
    // Opaque black, fully transparent black, half-transparent black, opaque red.
    writeRgbaPng(path.join(root, 'cls', 'a.png'), 4, 1, [0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128, 255, 0, 0, 255]);
    const gray = await loadImageFolder(root, { channels: 1 });
    assert.equal(gray.images[0], 0);
    assert.equal(gray.images[1], 1);
    assert.ok(Math.abs(gray.images[2] - (1 - 128 / 255)) < 1e-6);
    assert.ok(Math.abs(gray.images[3] - 0.299) < 1e-6);
    const rgb = await loadImageFolder(root, { channels: 3 });
    assert.deepEqual(Array.from(rgb.images.subarray(3, 6)), [1, 1, 1]);
    assert.deepEqual(Array.from(rgb.images.subarray(9, 12)), [1, 0, 0]);
  });

  it('reads a flat folder as one unlabelled set, ignoring hidden entries silently', async () => {
    const root = path.join(tmp, 'flat');
    writeGrayPng(path.join(root, 'b.png'), 2, 2);
    writeGrayPng(path.join(root, 'a.PNG'), 2, 2);
    writeFile(path.join(root, '.DS_Store'), 'x');
    writeFile(path.join(root, '.thumbs', 'x.png'), 'not read');
    const ds = await loadImageFolder(root, { channels: 1 });
    assert.deepEqual(ds.classNames, []);
    assert.deepEqual(Array.from(ds.labels), [-1, -1]);
    assert.deepEqual(ds.files, ['a.PNG', 'b.png']);
    assert.deepEqual(ds.skipped, []);
    assert.deepEqual(ds.report, { root, read: 2, classNames: [], skipped: {}, skippedFiles: [], ignored: 2 });
  });

  it("names images in the root '.' when class folders sit beside them", async () => {
    const root = path.join(tmp, 'root-and-classes');
    writeGrayPng(path.join(root, 'loose.png'), 2, 2);
    writeGrayPng(path.join(root, 'cls', 'a.png'), 2, 2);
    const ds = await loadImageFolder(root, { channels: 1 });
    assert.deepEqual(ds.classNames, ['.', 'cls']);
    assert.deepEqual(ds.files, ['loose.png', 'cls/a.png']);
    assert.deepEqual(Array.from(ds.labels), [0, 1]);
  });

  describe('bad input', () => {
    it('missing root: FILE_NOT_FOUND', async () => {
      const root = path.join(tmp, 'missing');
      await expectAekitError(() => loadImageFolder(root, { channels: 1 }), 'FILE_NOT_FOUND', root, 'not found');
    });

    it('root is a file', async () => {
      const file = path.join(tmp, 'file.png');
      writeGrayPng(file, 2, 2);
      await expectAekitError(() => loadImageFolder(file, { channels: 1 }), 'BAD_ARGUMENT', file, 'found a file');
    });

    it('no images at all', async () => {
      const root = path.join(tmp, 'no-images');
      writeFile(path.join(root, 'a', 'notes.txt'), 'x');
      writeFile(path.join(root, 'b', 'c', 'x.bmp'), 'x');
      await expectAekitError(() => loadImageFolder(root, { channels: 1 }), 'BAD_DATA', root, 'no images', 'skipped 2');
    });

    it('an empty class folder (a leaf folder without images)', async () => {
      const root = path.join(tmp, 'empty-class');
      writeGrayPng(path.join(root, 'alpha', 'char1', '0.png'), 2, 2);
      fs.mkdirSync(path.join(root, 'alpha', 'char2'), { recursive: true });
      await expectAekitError(
        () => loadImageFolder(root, { channels: 1 }),
        'BAD_DATA',
        path.join(root, 'alpha', 'char2'),
        'empty class',
      );
    });

    it('a corrupt PNG is skipped and counted, the rest is read', async () => {
      const root = path.join(tmp, 'corrupt');
      writeGrayPng(path.join(root, 'a', '0.png'), 4, 4);
      const good = fs.readFileSync(path.join(root, 'a', '0.png'));
      const bad = Buffer.from(good);
      bad.fill(0x42, 20, 40); // smash the IHDR chunk and its CRC
      writeFile(path.join(root, 'a', '1.png'), bad);
      const ds = await loadImageFolder(root, { channels: 1 });
      assert.deepEqual(ds.files, ['a/0.png']);
      assert.deepEqual(ds.skipped, ['a/1.png']);
      assert.deepEqual(ds.report.skipped, { 'corrupt PNG': 1 });
      assert.equal(ds.report.skippedFiles[0].detail, 'the "IHDR" chunk fails its checksum');
    });

    it('a corrupt JPEG and a file that is neither format are skipped; a folder of nothing readable is an error', async () => {
      const root = path.join(tmp, 'corrupt-jpeg');
      writeFile(path.join(root, 'a', '0.jpg'), Buffer.concat([fs.readFileSync(path.join(JPEGS, 'red', '0.jpg')).subarray(0, 30), Buffer.alloc(20, 7)]));
      writeFile(path.join(root, 'a', '1.jpg'), fs.readFileSync(path.join(JPEGS, 'red', '1.jpg')));
      writeFile(path.join(root, 'a', '2.png'), 'hello');
      const ds = await loadImageFolder(root, { channels: 3 });
      assert.deepEqual(ds.files, ['a/1.jpg']);
      assert.deepEqual(ds.report.skipped, { 'truncated JPEG': 1, 'not an image': 1 });
      assert.deepEqual(
        ds.report.skippedFiles.map((f) => [f.file, f.reason, f.kind]),
        [
          ['a/0.jpg', 'truncated JPEG', undefined],
          ['a/2.png', 'not an image', 'unknown content'],
        ],
      );
      const other = path.join(tmp, 'not-image');
      writeFile(path.join(other, 'a', '0.png'), 'hello');
      await expectAekitError(() => loadImageFolder(other, { channels: 3 }), 'BAD_DATA', other, 'none of the 1 image files could be read', 'not an image: 1 (unknown content 1)');
    });

    it('a class folder whose every image is skipped is an error naming it', async () => {
      const root = path.join(tmp, 'lost-class');
      writeGrayPng(path.join(root, 'good', '0.png'), 2, 2);
      writeFile(path.join(root, 'bad', '0.png'), Buffer.alloc(0));
      await expectAekitError(() => loadImageFolder(root, { channels: 1 }), 'BAD_DATA', path.join(root, 'bad'), 'every image of class folder', 'empty file: 1');
    });

    it('bad options', async () => {
      await expectAekitError(() => loadImageFolder(OMNIGLOT, { channels: 2 as 1 }), 'BAD_ARGUMENT', 'channels must be 1 or 3');
      await expectAekitError(() => loadImageFolder(OMNIGLOT, { channels: 1, height: 4 }), 'BAD_ARGUMENT', 'both height and width');
      await expectAekitError(() => loadImageFolder(OMNIGLOT, { channels: 1, height: 4, width: 0 }), 'BAD_ARGUMENT', 'width');
      await expectAekitError(() => loadImageFolder(OMNIGLOT, { channels: 1, limitPerClass: 0 }), 'BAD_ARGUMENT', 'limitPerClass');
    });
  });
});

describe('data/resize', () => {
  it('averages areas when shrinking, including non-integer ratios', () => {
    assert.deepEqual(Array.from(resizeImage(Float32Array.from([1, 2, 3, 4]), 1, 4, 1, 1, 2)), [1.5, 3.5]);
    const [a, b] = resizeImage(Float32Array.from([0, 0.3, 0.9]), 1, 3, 1, 1, 2);
    assert.ok(Math.abs(a - (0 + 0.3 * 0.5) / 1.5) < 1e-6);
    assert.ok(Math.abs(b - (0.3 * 0.5 + 0.9) / 1.5) < 1e-6);
  });

  it('interpolates bilinearly (half-pixel centres) when enlarging', () => {
    assert.deepEqual(Array.from(resizeImage(Float32Array.from([0, 1]), 1, 2, 1, 1, 4)), [0, 0.25, 0.75, 1]);
    const up = resizeImage(Float32Array.from([0, 1]), 2, 1, 1, 4, 1);
    assert.deepEqual(Array.from(up), [0, 0.25, 0.75, 1]);
  });

  it('keeps channels apart and leaves the input untouched', () => {
    const input = Float32Array.from([1, 0, 0, 0, 1, 0]); // 1x2 RGB: red, green
    const out = resizeImage(input, 1, 2, 3, 1, 1);
    assert.deepEqual(Array.from(out), [0.5, 0.5, 0]);
    assert.deepEqual(Array.from(input), [1, 0, 0, 0, 1, 0]);
  });
});
