import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { loadIdxDataset, readIdx } from '../../src/data/idx';
import { expectAekitError, FIXTURES, tempDir, writeFile } from './helpers';

const IMAGES = path.join(FIXTURES, 'mnist-100', 'train-images-idx3-ubyte');
const LABELS = path.join(FIXTURES, 'mnist-100', 'train-labels-idx1-ubyte');

/** Builds an IDX file: header for `type` and `dims`, then `body` (or the right number of zero bytes). */
function idx(type: number, dims: number[], body?: Buffer): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const size = { 8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8 }[type] ?? 1;
  return Buffer.concat([header, body ?? Buffer.alloc(dims.reduce((a, b) => a * b, 1) * size)]);
}

describe('data/idx', () => {
  let tmp: string;
  before(() => {
    tmp = tempDir('idx');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads the MNIST slice: shape, type, first label and raw pixel bytes', () => {
    const images = readIdx(IMAGES);
    assert.deepEqual(images.dims, [100, 28, 28]);
    assert.equal(images.dataType, 'uint8');
    const raw = fs.readFileSync(IMAGES);
    assert.deepEqual(Buffer.from(images.data.buffer, images.data.byteOffset, images.data.byteLength), raw.subarray(16));
    const labels = readIdx(LABELS);
    assert.deepEqual(labels.dims, [100]);
    assert.equal(labels.data[0], 5); // MNIST's first training digit is a 5
  });

  it('reads gzip-compressed files transparently', () => {
    const plain = readIdx(IMAGES);
    const gz = readIdx(`${IMAGES}.gz`);
    assert.deepEqual(gz.dims, plain.dims);
    assert.deepEqual(gz.data, plain.data);
    assert.deepEqual(readIdx(`${LABELS}.gz`).data, readIdx(LABELS).data);
  });

  it('reads multi-byte types big-endian', () => {
    const cases: [number, string, number[], (b: Buffer, v: number, o: number) => void, number][] = [
      [0x0b, 'int16', [-2, 300], (b, v, o) => b.writeInt16BE(v, o), 2],
      [0x0c, 'int32', [-70000, 5], (b, v, o) => b.writeInt32BE(v, o), 4],
      [0x0d, 'float32', [1.5, -0.25], (b, v, o) => b.writeFloatBE(v, o), 4],
      [0x0e, 'float64', [Math.PI, -1e10], (b, v, o) => b.writeDoubleBE(v, o), 8],
      [0x09, 'int8', [-128, 127], (b, v, o) => b.writeInt8(v, o), 1],
    ];
    for (const [type, name, values, write, size] of cases) {
      const body = Buffer.alloc(values.length * size);
      values.forEach((v, i) => write(body, v, i * size));
      const file = path.join(tmp, `${name}.idx`);
      writeFile(file, idx(type, [values.length], body));
      const parsed = readIdx(file);
      assert.equal(parsed.dataType, name);
      assert.deepEqual(Array.from(parsed.data), values);
    }
  });

  it('loads an image/label pair as a [0, 1] grayscale dataset', () => {
    const ds = loadIdxDataset(IMAGES, LABELS, 'slice');
    assert.equal(ds.name, 'slice');
    assert.equal(ds.count, 100);
    assert.deepEqual([ds.height, ds.width, ds.channels], [28, 28, 1]);
    assert.equal(ds.images.length, 100 * 28 * 28);
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const raw = fs.readFileSync(IMAGES);
    for (const i of [0, 200, 300, 78399]) assert.equal(ds.images[i], Math.fround(raw[16 + i] / 255));
    assert.equal(ds.labels[0], 5);
  });

  it('honours limit and keeps the full class list', () => {
    const ds = loadIdxDataset(IMAGES, LABELS, 'slice', { limit: 3 });
    assert.equal(ds.count, 3);
    assert.equal(ds.images.length, 3 * 784);
    assert.equal(ds.labels.length, 3);
    assert.equal(ds.classNames.length, 10);
    assert.equal(loadIdxDataset(IMAGES, LABELS, 'slice', { limit: 1000 }).count, 100);
  });

  it('transposes each image for EMNIST', () => {
    const plain = loadIdxDataset(IMAGES, LABELS, 'slice', { limit: 2 });
    const t = loadIdxDataset(IMAGES, LABELS, 'slice', { limit: 2, transpose: true });
    for (const [n, y, x] of [[0, 5, 12], [1, 20, 3], [1, 14, 14]]) {
      assert.equal(t.images[n * 784 + y * 28 + x], plain.images[n * 784 + x * 28 + y]);
    }
    const rect = path.join(tmp, 'rect-images');
    writeFile(rect, idx(0x08, [1, 2, 3], Buffer.from([1, 2, 3, 4, 5, 6])));
    const labels = path.join(tmp, 'rect-labels');
    writeFile(labels, idx(0x08, [1], Buffer.from([0])));
    const r = loadIdxDataset(rect, labels, 'rect', { transpose: true });
    assert.deepEqual([r.height, r.width], [3, 2]);
    assert.deepEqual(Array.from(r.images, (v) => Math.round(v * 255)), [1, 4, 2, 5, 3, 6]);
  });

  describe('bad input', () => {
    it('missing file: FILE_NOT_FOUND naming it', async () => {
      const file = path.join(tmp, 'nope-idx3-ubyte');
      await expectAekitError(() => readIdx(file), 'FILE_NOT_FOUND', file, 'not found');
    });

    it('bad magic number', async () => {
      const file = path.join(tmp, 'bad-magic');
      const bytes = idx(0x08, [2]);
      bytes[0] = 0x50; // e.g. the first byte of a PNG/ZIP
      writeFile(file, bytes);
      await expectAekitError(() => readIdx(file), 'BAD_DATA', file, 'magic number', '0x50000801');
    });

    it('unknown type byte', async () => {
      const file = path.join(tmp, 'bad-type');
      writeFile(file, idx(0x0a, [2]));
      await expectAekitError(() => readIdx(file), 'BAD_DATA', file, 'type byte 0x0a', '0x08 (uint8)');
    });

    it('zero dimensions, or a header longer than the file', async () => {
      const zero = path.join(tmp, 'zero-dims');
      writeFile(zero, Buffer.from([0, 0, 8, 0]));
      await expectAekitError(() => readIdx(zero), 'BAD_DATA', zero, 'dimension count is 0');
      const short = path.join(tmp, 'short-header');
      writeFile(short, Buffer.from([0, 0, 8, 3, 0, 0, 0, 1]));
      await expectAekitError(() => readIdx(short), 'BAD_DATA', short, '3 dimensions (16 bytes)', 'file is 8 bytes');
      const tiny = path.join(tmp, 'tiny');
      writeFile(tiny, Buffer.from([0, 0]));
      await expectAekitError(() => readIdx(tiny), 'BAD_DATA', tiny, 'file is 2 bytes');
    });

    it('truncated and oversized files name expected and actual byte counts', async () => {
      const full = fs.readFileSync(IMAGES);
      const truncated = path.join(tmp, 'truncated-idx3-ubyte');
      writeFile(truncated, full.subarray(0, full.length - 10));
      await expectAekitError(() => readIdx(truncated), 'BAD_DATA', truncated, 'truncated', '78416', '78406');
      const oversized = path.join(tmp, 'oversized-idx3-ubyte');
      writeFile(oversized, Buffer.concat([full, Buffer.alloc(3)]));
      await expectAekitError(() => readIdx(oversized), 'BAD_DATA', oversized, 'oversized', '78416', '78419');
      const truncatedGz = path.join(tmp, 'truncated-in-gz.gz');
      writeFile(truncatedGz, zlib.gzipSync(full.subarray(0, 1000)));
      await expectAekitError(() => readIdx(truncatedGz), 'BAD_DATA', truncatedGz, 'truncated', 'after decompression');
    });

    it('corrupt gzip stream', async () => {
      const file = path.join(tmp, 'corrupt.gz');
      const gz = zlib.gzipSync(fs.readFileSync(LABELS));
      writeFile(file, gz.subarray(0, gz.length - 20));
      await expectAekitError(() => readIdx(file), 'BAD_DATA', file, 'gzip');
    });

    it('image and label counts that disagree', async () => {
      const labels = path.join(tmp, 'labels-99');
      writeFile(labels, idx(0x08, [99], fs.readFileSync(LABELS).subarray(8, 107)));
      await expectAekitError(
        () => loadIdxDataset(IMAGES, labels, 'x'),
        'BAD_DATA',
        labels,
        'counts differ',
        '100 images',
        '99 labels',
      );
    });

    it('files that are not an image/label pair', async () => {
      await expectAekitError(() => loadIdxDataset(LABELS, LABELS, 'x'), 'BAD_DATA', LABELS, 'expected uint8 images', '[100]');
      await expectAekitError(() => loadIdxDataset(IMAGES, IMAGES, 'x'), 'BAD_DATA', IMAGES, 'expected integer labels');
      await expectAekitError(() => loadIdxDataset(IMAGES, LABELS, 'x', { limit: 0 }), 'BAD_ARGUMENT', 'limit');
    });
  });
});
