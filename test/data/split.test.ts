import { strict as assert } from 'node:assert';
import { splitIndices, subset } from '../../src/data/split';
import type { FolderDataset, TintedDataset } from '../../src/data/types';
import { expectAekitError } from './helpers';

function toy(count: number): TintedDataset & FolderDataset {
  return {
    name: 'toy',
    images: Float32Array.from({ length: count * 2 }, (_, i) => i),
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    count,
    height: 1,
    width: 2,
    channels: 1,
    classNames: ['a', 'b', 'c'],
    colorIndex: Int32Array.from({ length: count }, (_, i) => 10 + i),
    colors: [[1, 0, 0]],
    files: Array.from({ length: count }, (_, i) => `f${i}.png`),
    skipped: ['x.txt'],
    report: { root: 'toy', read: count, classNames: ['a', 'b', 'c'], skipped: { 'not an image': 1 }, skippedFiles: [{ file: 'x.txt', reason: 'not an image', kind: '.txt' }], ignored: 0 },
  };
}

describe('data/split', () => {
  it('splits by floor with the remainder to the first part, disjoint and complete', () => {
    const parts = splitIndices(100, [0.8, 0.1, 0.1], 7);
    assert.deepEqual(parts.map((p) => p.length), [80, 10, 10]);
    const all = parts.flatMap((p) => Array.from(p)).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(splitIndices(7, [0.5, 0.5], 1).map((p) => p.length), [4, 3]);
    assert.deepEqual(splitIndices(100, [0.71, 0.29], 1).map((p) => p.length), [71, 29]);
    assert.deepEqual(splitIndices(0, [0.5, 0.5], 1).map((p) => p.length), [0, 0]);
    for (const part of parts) for (let i = 1; i < part.length; i++) assert.ok(part[i] > part[i - 1], 'sorted');
  });

  it('is reproducible from the seed and differs between seeds', () => {
    assert.deepEqual(splitIndices(50, [0.6, 0.4], 3), splitIndices(50, [0.6, 0.4], 3));
    assert.notDeepEqual(splitIndices(50, [0.6, 0.4], 3)[1], splitIndices(50, [0.6, 0.4], 4)[1]);
  });

  it('rejects fractions that do not sum to 1, or are out of range', async () => {
    await expectAekitError(() => splitIndices(10, [0.8, 0.1], 1), 'BAD_ARGUMENT', '[0.8, 0.1]', 'sum to 1', '0.9');
    await expectAekitError(() => splitIndices(10, [1.2, -0.2], 1), 'BAD_ARGUMENT', 'fraction 0');
    await expectAekitError(() => splitIndices(10, [], 1), 'BAD_ARGUMENT', 'empty');
    await expectAekitError(() => splitIndices(-1, [1], 1), 'BAD_ARGUMENT', 'count');
    assert.equal(splitIndices(10, [0.7, 0.2, 0.1], 1).length, 3, 'decimal fractions within tolerance');
  });

  it('subset copies the chosen rows and per-sample extras', () => {
    const ds = toy(5);
    const sub = subset(ds, [3, 1]);
    assert.equal(sub.count, 2);
    assert.deepEqual(Array.from(sub.images), [6, 7, 2, 3]);
    assert.deepEqual(Array.from(sub.labels), [0, 1]);
    assert.deepEqual(Array.from(sub.colorIndex), [13, 11]);
    assert.deepEqual(sub.files, ['f3.png', 'f1.png']);
    assert.deepEqual(sub.skipped, ['x.txt']);
    assert.deepEqual(sub.report, ds.report, 'a subset keeps the report of the whole folder');
    assert.deepEqual(sub.classNames, ['a', 'b', 'c']);
    sub.images[0] = -1;
    assert.equal(ds.images[6], 6, 'a copy, not a view');
  });

  it('subset rejects out-of-range indices', async () => {
    await expectAekitError(() => subset(toy(5), [5]), 'BAD_ARGUMENT', 'index 5', '0..4', 'toy');
  });
});
