import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadImageFolder } from '../../src/data/image-folder';
import { datasetClasses, labelProblem, loadedClasses, requireLabels } from '../../src/data/labels';
import { loadMnist } from '../../src/data/mnist';
import { expectAekitError, FIXTURES, tempDir, writeFile, writeGrayPng } from './helpers';

const OMNIGLOT = path.join(FIXTURES, 'omniglot-tiny');
const FLAT = path.join(FIXTURES, 'flat-rgb');
const LABELS = path.join(FIXTURES, 'mnist-100', 'train-labels-idx1-ubyte');
const folder = (p: string) => ({ name: 'folder', path: p, height: 8, width: 8, channels: 1 }) as const;

describe('data/labels', () => {
  let tmp: string;
  before(() => {
    tmp = tempDir('labels');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('knows the classes of a spec without decoding images', async () => {
    assert.equal((await datasetClasses({ name: 'mnist' })).used, 10);
    assert.deepEqual((await datasetClasses({ name: 'fashion-mnist' })).classNames.slice(0, 2), ['T-shirt/top', 'Trouser']);
    const idx = await datasetClasses({ name: 'idx', images: 'unused', labels: LABELS });
    assert.deepEqual([idx.used, idx.classNames.length, idx.source], [10, 10, LABELS]);
    const omniglot = await datasetClasses(folder(OMNIGLOT));
    assert.equal(omniglot.used, 6);
    assert.equal(labelProblem(omniglot), undefined);
    const flat = await datasetClasses(folder(FLAT));
    assert.deepEqual([flat.used, flat.classNames], [0, []]);
    assert.equal(labelProblem(flat), `${FLAT} is unlabelled: a flat folder of images (no class subfolders)`);
  });

  it('says why one class or unlabelled images cannot serve a label-needing consumer', async () => {
    const one = path.join(tmp, 'one');
    writeGrayPng(path.join(one, 'cats', '0.png'), 2, 2);
    const classes = await datasetClasses(folder(one));
    assert.equal(labelProblem(classes), `${one} has one class ('cats'); at least 2 are needed`);
    await expectAekitError(() => requireLabels(classes, "family 'cvae'"), 'BAD_DATA', "family 'cvae' needs labelled images of at least 2 classes", `${one} has one class ('cats')`, 'one subfolder per class');
    // An IDX label file that uses one label only.
    const labels = path.join(tmp, 'one-label-idx1-ubyte');
    writeFile(labels, Buffer.from([0, 0, 8, 1, 0, 0, 0, 3, 4, 4, 4]));
    const idx = await datasetClasses({ name: 'idx', images: 'unused', labels });
    assert.equal(labelProblem(idx), `${labels} has one class; at least 2 are needed`);
  });

  it('judges a loaded dataset the same way', async () => {
    assert.equal(labelProblem(loadedClasses(loadMnist('test', { limit: 50 }))), undefined);
    const flat = await loadImageFolder(FLAT, { channels: 3 });
    assert.match(labelProblem(loadedClasses(flat)) ?? '', /is unlabelled: its images have no labels/);
    await expectAekitError(async () => requireLabels(await datasetClasses(folder(path.join(tmp, 'missing'))), 'x'), 'FILE_NOT_FOUND', 'missing');
  });
});
