import { strict as assert } from 'node:assert';
import { loadMnist, MNIST_COUNTS } from '../../src/data/mnist';

describe('data/mnist', () => {
  for (const [split, firstLabel] of [['train', 5], ['test', 7]] as const) {
    it(`loads the ${split} split: ${MNIST_COUNTS[split]} images, labels 0-9`, () => {
      const ds = loadMnist(split);
      assert.equal(ds.name, 'mnist');
      assert.equal(ds.count, MNIST_COUNTS[split]);
      assert.deepEqual([ds.height, ds.width, ds.channels], [28, 28, 1]);
      assert.equal(ds.images.length, ds.count * 784);
      assert.equal(ds.labels.length, ds.count);
      assert.equal(ds.labels[0], firstLabel);
      const seen = new Set(ds.labels);
      assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < ds.images.length; i += 97) {
        min = Math.min(min, ds.images[i]);
        max = Math.max(max, ds.images[i]);
      }
      assert.ok(min >= 0 && max <= 1 && max > 0.99, `values in [0, 1], got ${min}..${max}`);
    });
  }

  it('serves repeated loads from the cache and honours limit', () => {
    const first = loadMnist('test');
    const started = process.hrtime.bigint();
    const again = loadMnist('test', { limit: 10 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 20, `cached load took ${ms} ms`);
    assert.equal(again.count, 10);
    assert.equal(again.images.length, 10 * 784);
    assert.deepEqual(Array.from(again.labels), Array.from(first.labels.subarray(0, 10)));
    assert.equal(again.images.buffer, first.images.buffer);
  });

  it('rejects a bad split or limit', () => {
    assert.throws(() => loadMnist('valid' as 'train'), /split must be 'train' or 'test'/);
    assert.throws(() => loadMnist('train', { limit: -1 }), /limit must be an integer >= 1/);
  });
});
