import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import {
  DATASET_NAMES,
  datasetSpecSchema,
  loadDataset,
  parseDatasetSpec,
  type DatasetSpec,
} from '../../src/data/registry';
import type { FolderDataset, TintedDataset } from '../../src/data/types';
import * as data from '../../src/data';
import { expectAekitError, FIXTURES } from './helpers';

const IMAGES = path.join(FIXTURES, 'mnist-100', 'train-images-idx3-ubyte');
const LABELS = path.join(FIXTURES, 'mnist-100', 'train-labels-idx1-ubyte');
const OMNIGLOT = path.join(FIXTURES, 'omniglot-tiny');

describe('data/registry', () => {
  describe('datasetSpecSchema', () => {
    it('accepts every dataset kind', () => {
      const specs: DatasetSpec[] = [
        { name: 'mnist' },
        { name: 'mnist', limit: 10 },
        { name: 'colored-mnist', colors: 'warm' },
        { name: 'idx', images: 'a', labels: 'b', testImages: 'c', testLabels: 'd', transpose: true },
        { name: 'folder', path: 'faces', height: 64, width: 64, channels: 3, limitPerClass: 5 },
        { name: 'fashion-mnist', limit: 100 },
        { name: 'folder', path: 'cats', height: 16, width: 16, channels: 3, limit: 8 },
      ];
      for (const spec of specs) assert.deepEqual(datasetSpecSchema.parse(spec), spec);
    });

    it('names the valid datasets for an unknown or missing name', async () => {
      for (const value of [{ name: 'cifar' }, {}]) {
        await expectAekitError(() => parseDatasetSpec(value, 'run.json: data'), 'UNKNOWN_NAME', 'run.json: data', ...DATASET_NAMES);
      }
      const result = datasetSpecSchema.safeParse({ name: 'cifar' });
      assert.ok(!result.success && result.error.issues[0].message.includes('mnist, colored-mnist, fashion-mnist, idx, folder'));
    });

    it('names the bad field and what is expected', async () => {
      await expectAekitError(() => parseDatasetSpec({ name: 'mnist', limit: 0 }), 'BAD_CONFIG', 'limit', 'at least 1');
      await expectAekitError(() => parseDatasetSpec({ name: 'mnist', limt: 5 }), 'BAD_CONFIG', 'limt');
      await expectAekitError(() => parseDatasetSpec({ name: 'colored-mnist', colors: 'red' }), 'BAD_CONFIG', 'colors', "'warm'");
      await expectAekitError(
        () => parseDatasetSpec({ name: 'folder', path: 'x', height: 8, width: 8, channels: 4 }),
        'BAD_CONFIG',
        'channels',
        '1 (grayscale) or 3 (RGB)',
      );
      await expectAekitError(() => parseDatasetSpec({ name: 'folder', path: 'x', channels: 1 }), 'BAD_CONFIG', 'height');
      await expectAekitError(
        () => parseDatasetSpec({ name: 'idx', images: 'a', labels: 'b', testImages: 'c' }),
        'BAD_CONFIG',
        'testLabels',
        'both testImages and testLabels',
      );
      await expectAekitError(() => parseDatasetSpec('mnist'), 'BAD_CONFIG', 'expected object');
    });
  });

  describe('loadDataset', () => {
    it('loads MNIST splits', async () => {
      const train = await loadDataset({ name: 'mnist', limit: 50 }, 'train', 1);
      const test = await loadDataset({ name: 'mnist' }, 'test', 1);
      assert.equal(train.count, 50);
      assert.equal(test.count, 10000);
    });

    it('loads coloured MNIST with the chosen palette, seeded', async () => {
      const warm = (await loadDataset({ name: 'colored-mnist', limit: 200, colors: 'warm' }, 'train', 1)) as TintedDataset;
      assert.equal(warm.name, 'colored-mnist');
      assert.equal(warm.channels, 3);
      assert.deepEqual(new Set(warm.colorIndex), new Set([0, 1, 2]));
      const all = (await loadDataset({ name: 'colored-mnist', limit: 200 }, 'train', 1)) as TintedDataset;
      assert.equal(all.colors.length, 6);
      const again = (await loadDataset({ name: 'colored-mnist', limit: 200 }, 'train', 1)) as TintedDataset;
      assert.deepEqual(again.colorIndex, all.colorIndex);
      const other = (await loadDataset({ name: 'colored-mnist', limit: 200 }, 'train', 2)) as TintedDataset;
      assert.notDeepEqual(other.colorIndex, all.colorIndex);
    });

    it('splits a folder 90/10 by seed, disjoint, keeping file names', async () => {
      const spec: DatasetSpec = { name: 'folder', path: OMNIGLOT, height: 8, width: 8, channels: 1 };
      const train = (await loadDataset(spec, 'train', 3)) as FolderDataset;
      const test = (await loadDataset(spec, 'test', 3)) as FolderDataset;
      assert.deepEqual([train.count, test.count], [22, 2]);
      assert.equal(train.classNames.length, 6);
      const files = new Set(train.files);
      assert.ok(test.files.every((f) => !files.has(f)));
      assert.equal(new Set([...train.files, ...test.files]).size, 24);
      assert.deepEqual(((await loadDataset(spec, 'test', 3)) as FolderDataset).files, test.files);
    });

    it('loads IDX pairs with or without test files', async () => {
      const held = await loadDataset({ name: 'idx', images: IMAGES, labels: LABELS }, 'test', 1);
      assert.equal(held.count, 10);
      assert.equal(held.name, IMAGES);
      const train = await loadDataset({ name: 'idx', images: IMAGES, labels: LABELS, limit: 30 }, 'train', 1);
      assert.equal(train.count, 30);
      const gz = await loadDataset(
        { name: 'idx', images: IMAGES, labels: LABELS, testImages: `${IMAGES}.gz`, testLabels: `${LABELS}.gz`, limit: 20 },
        'test',
        1,
      );
      assert.equal(gz.count, 20);
      assert.equal(gz.labels[0], 5);
    });

    it('limits a folder split to N images drawn at random (seeded), not the first classes', async () => {
      const spec = { name: 'folder', path: OMNIGLOT, height: 8, width: 8, channels: 1 } as const;
      const all = (await loadDataset(spec, 'train', 3)) as FolderDataset;
      const some = (await loadDataset({ ...spec, limit: 6 }, 'train', 3)) as FolderDataset;
      assert.equal(some.count, 6);
      assert.ok(some.files.every((f) => all.files.includes(f)), 'drawn from the same split');
      assert.ok(new Set(some.labels).size > 1, `several classes, got ${Array.from(some.labels)}`);
      assert.deepEqual(((await loadDataset({ ...spec, limit: 6 }, 'train', 3)) as FolderDataset).files, some.files, 'seeded');
      assert.deepEqual(some.files, [...some.files].sort((a, b) => all.files.indexOf(a) - all.files.indexOf(b)), 'in split order');
    });

    it('rejects an unknown name and a bad split', async () => {
      await expectAekitError(() => loadDataset({ name: 'cifar' } as unknown as DatasetSpec, 'train', 1), 'UNKNOWN_NAME', 'cifar', 'folder');
      await expectAekitError(() => loadDataset({ name: 'mnist' }, 'val' as 'test', 1), 'BAD_ARGUMENT', 'val');
    });
  });

  it('index re-exports the public API', () => {
    for (const name of ['readIdx', 'loadIdxDataset', 'loadMnist', 'loadImageFolder', 'toRange', 'fromRange', 'tint',
      'gaussianNoise', 'maskingNoise', 'saltAndPepperNoise', 'splitIndices', 'subset', 'epochOrder', 'batches',
      'loadDataset', 'datasetSpecSchema', 'VALUE_RANGES', 'COLOR_SETS', 'loadFashionMnist', 'decodeImage', 'observeFolderReads',
      'formatFolderReport', 'datasetClasses', 'requireLabels', 'NAMED_DATASETS']) {
      assert.ok(name in data, name);
    }
  });
});
