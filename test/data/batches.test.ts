import { strict as assert } from 'node:assert';
import { batches, epochOrder } from '../../src/data/batches';
import type { ImageDataset } from '../../src/data/types';
import { expectAekitError } from './helpers';

function toy(count: number): ImageDataset {
  return {
    name: 'toy',
    images: Float32Array.from({ length: count * 3 }, (_, i) => i),
    labels: Int32Array.from({ length: count }, (_, i) => 100 + i),
    count,
    height: 1,
    width: 3,
    channels: 1,
    classNames: [],
  };
}

describe('data/batches', () => {
  it('epochOrder is a permutation reproducible from (seed, epoch)', () => {
    const order = epochOrder(50, 1, 3);
    assert.deepEqual(Array.from(order).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual(epochOrder(50, 1, 3), order, 'same seed and epoch');
    assert.notDeepEqual(epochOrder(50, 1, 4), order, 'another epoch');
    assert.notDeepEqual(epochOrder(50, 2, 3), order, 'another seed');
  });

  it('covers every index exactly once, in order, with a smaller last batch', () => {
    const ds = toy(10);
    const order = epochOrder(10, 5, 0);
    const seen: number[] = [];
    const got = [...batches(ds, order, 4)];
    assert.deepEqual(got.map((b) => b.size), [4, 4, 2]);
    assert.deepEqual(got.map((b) => b.index), [0, 1, 2]);
    for (const batch of got) {
      assert.equal(batch.images.length, batch.size * 3);
      for (let k = 0; k < batch.size; k++) {
        const i = batch.labels[k] - 100;
        seen.push(i);
        assert.deepEqual(Array.from(batch.images.subarray(k * 3, k * 3 + 3)), [3 * i, 3 * i + 1, 3 * i + 2]);
      }
    }
    assert.deepEqual(seen, Array.from(order));
  });

  it('dropLast drops only an incomplete batch', () => {
    assert.deepEqual([...batches(toy(10), epochOrder(10, 1, 0), 4, { dropLast: true })].map((b) => b.size), [4, 4]);
    assert.deepEqual([...batches(toy(8), epochOrder(8, 1, 0), 4, { dropLast: true })].map((b) => b.size), [4, 4]);
    assert.deepEqual([...batches(toy(3), epochOrder(3, 1, 0), 4, { dropLast: true })], []);
  });

  it('gives each batch its own buffers', () => {
    const ds = toy(4);
    const [a, b] = [...batches(ds, [0, 1, 2, 3], 2)];
    a.images[0] = -1;
    assert.equal(ds.images[0], 0);
    assert.notEqual(a.images.buffer, b.images.buffer);
  });

  it('rejects bad batch sizes and indices', async () => {
    await expectAekitError(() => [...batches(toy(4), [0, 1], 0)], 'BAD_ARGUMENT', 'batch size');
    await expectAekitError(() => [...batches(toy(4), [0, 9], 2)], 'BAD_ARGUMENT', 'index 9', '0..3');
    await expectAekitError(() => epochOrder(4, 1, -1), 'BAD_ARGUMENT', 'epoch');
  });
});
