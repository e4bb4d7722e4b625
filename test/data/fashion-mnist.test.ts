import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, FASHION_MNIST_DIR_ENV, fashionMnistDir, loadFashionMnist } from '../../src/data/fashion-mnist';
import { loadDataset } from '../../src/data/registry';
import { expectAekitError, tempDir } from './helpers';

describe('data/fashion-mnist', () => {
  let tmp: string;
  const saved = process.env[FASHION_MNIST_DIR_ENV];
  before(() => {
    tmp = tempDir('fashion');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[FASHION_MNIST_DIR_ENV];
    else process.env[FASHION_MNIST_DIR_ENV] = saved;
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("reads Debian's dataset-fashion-mnist files by name", async function () {
    if (!fs.existsSync(path.join(fashionMnistDir(), 't10k-images-idx3-ubyte.gz'))) {
      process.stdout.write(`      Fashion-MNIST is not installed in ${fashionMnistDir()}; install it with: sudo apt-get install dataset-fashion-mnist\n`);
      this.skip();
    }
    const test = await loadDataset({ name: 'fashion-mnist' }, 'test', 0);
    assert.deepEqual([test.count, test.height, test.width, test.channels], [10000, 28, 28, 1]);
    assert.equal(test.name, 'fashion-mnist');
    assert.deepEqual(test.classNames, FASHION_MNIST_CLASSES);
    // The first test image of Fashion-MNIST is an ankle boot (label 9), the second a pullover (2).
    assert.deepEqual(Array.from(test.labels.subarray(0, 2)), [9, 2]);
    const train = loadFashionMnist('train', { limit: 500 });
    assert.equal(train.count, 500);
    assert.equal(new Set(train.labels).size, 10);
  });

  it('names the Debian package, the folder and the files when they are missing', async () => {
    process.env[FASHION_MNIST_DIR_ENV] = tmp;
    await expectAekitError(() => loadDataset({ name: 'fashion-mnist' }, 'train', 0), 'FILE_NOT_FOUND', tmp, 'sudo apt-get install dataset-fashion-mnist', 'train-images-idx3-ubyte.gz', '--idx');
    delete process.env[FASHION_MNIST_DIR_ENV];
    assert.equal(fashionMnistDir(), FASHION_MNIST_DIR);
  });
});
