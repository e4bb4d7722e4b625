import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { isAekitError } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { loadDataset } from '../../src/data/registry';
import { parseOptions } from '../../src/cli/common';
import { addDataFlags, dataFlagsShape, dataSourceFromFlags, reportingFolderReads } from '../../src/cli/data-flags';
import type { DataFlags, FolderShape } from '../../src/cli/data-flags';
import { z } from 'zod';

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures', 'data');
const OMNIGLOT = path.join(FIXTURES, 'omniglot-tiny');
const IMAGES = path.join(FIXTURES, 'mnist-100', 'train-images-idx3-ubyte');
const LABELS = path.join(FIXTURES, 'mnist-100', 'train-labels-idx1-ubyte');
const DEFAULTS: FolderShape = { height: 28, width: 28, channels: 1 };

/** The flags as a user types them, through commander and the schema (as the verbs parse them). */
function parse(args: string[], sizing: 'flags' | 'model' = 'flags'): DataFlags {
  const command = addDataFlags(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }), sizing === 'flags' ? { kind: 'flags', defaults: '28x28' } : { kind: 'model' });
  command.parse(args, { from: 'user' });
  return parseOptions(z.object(dataFlagsShape), command.opts());
}

async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    assert.ok(isAekitError(error), String(error));
    return error.message;
  }
  throw new Error('expected an error');
}

describe('cli/data-flags: one data-source parser for every verb', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-data-flags-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('makes a DatasetSpec of each kind of source', async () => {
    assert.deepEqual(await dataSourceFromFlags(parse(['--dataset', 'fashion-mnist']), { defaults: DEFAULTS }), { spec: { name: 'fashion-mnist' } });
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT, '--image-size', '16x12', '--channels', '3']), { defaults: DEFAULTS }), {
      spec: { name: 'folder', path: OMNIGLOT, height: 16, width: 12, channels: 3 },
    });
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT]), { defaults: DEFAULTS }), { spec: { name: 'folder', path: OMNIGLOT, ...DEFAULTS } });
    assert.deepEqual(await dataSourceFromFlags(parse(['--idx', IMAGES, '--idx-labels', LABELS, '--idx-test-images', `${IMAGES}.gz`, '--idx-test-labels', `${LABELS}.gz`, '--idx-transpose'])), {
      spec: { name: 'idx', images: IMAGES, labels: LABELS, testImages: `${IMAGES}.gz`, testLabels: `${LABELS}.gz`, transpose: true },
    });
    assert.equal(await dataSourceFromFlags(parse([]), { defaults: DEFAULTS }), undefined);
  });

  it("reads a folder at the model's size where the verb takes it (eval, latent): no size flags there", async () => {
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT], 'model')), { folder: OMNIGLOT });
    assert.throws(() => parse(['--data', OMNIGLOT, '--image-size', '8x8'], 'model'), /unknown option '--image-size'/);
  });

  it("keeps a config's folder size for --data, and resizes a config's folder with --image-size alone", async () => {
    const current = { name: 'folder', path: 'faces', height: 64, width: 64, channels: 3 } as const;
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT]), { defaults: DEFAULTS, current }), { spec: { name: 'folder', path: OMNIGLOT, height: 64, width: 64, channels: 3 } });
    assert.deepEqual(await dataSourceFromFlags(parse(['--image-size', '32x32']), { defaults: DEFAULTS, current }), { spec: { ...current, height: 32, width: 32 } });
  });

  it('reads a data config file, with paths relative to the file', async () => {
    const sub = path.join(dir, 'configs');
    await fs.mkdir(sub, { recursive: true });
    const file = path.join(sub, 'omniglot.json');
    await fs.writeFile(file, JSON.stringify({ name: 'folder', path: path.relative(sub, OMNIGLOT), height: 8, width: 8, channels: 1, limitPerClass: 2 }));
    const source = await dataSourceFromFlags(parse(['--data-config', file]));
    assert.deepEqual(source, { spec: { name: 'folder', path: OMNIGLOT, height: 8, width: 8, channels: 1, limitPerClass: 2 } });
    const idxFile = path.join(sub, 'idx.json');
    await fs.writeFile(idxFile, JSON.stringify({ name: 'idx', images: path.relative(sub, IMAGES), labels: path.relative(sub, LABELS) }));
    const idx = await dataSourceFromFlags(parse(['--data-config', idxFile]));
    assert.ok(idx && 'spec' in idx);
    assert.equal((await loadDataset(idx.spec, 'train', 0)).count, 90);
  });

  it('errors name the flag and the valid choices', async () => {
    const cases: [string[], string][] = [
      [['--dataset', 'cifar'], "--dataset: unknown dataset 'cifar'; expected one of: mnist, colored-mnist, fashion-mnist; for your own files use --data <folder>, --idx <images> --idx-labels <labels> or --data-config <file.json>"],
      [['--dataset', 'idx'], '--dataset: unknown dataset \'idx\'; expected one of: mnist, colored-mnist, fashion-mnist; IDX files are given with --idx <images> --idx-labels <labels>'],
      [['--dataset', 'mnist', '--data', OMNIGLOT], `data source: give a dataset (--dataset mnist) or an image folder (--data ${OMNIGLOT}), not both`],
      [['--dataset', 'mnist', '--idx', IMAGES, '--data-config', 'x.json'], `data source: give a dataset (--dataset mnist) or IDX files (--idx ${IMAGES}) or a data config (--data-config x.json), not several`],
      [['--idx', IMAGES], `data source: --idx ${IMAGES} needs its labels: --idx-labels <labels>`],
      [['--idx-labels', LABELS], 'data source: --idx-labels goes with --idx <images>'],
      [['--idx', IMAGES, '--idx-labels', LABELS, '--idx-test-images', IMAGES], 'data source: give both --idx-test-images and --idx-test-labels, or neither'],
      [['--idx', path.join(dir, 'nope'), '--idx-labels', LABELS], `--idx: file not found: ${path.join(dir, 'nope')}`],
      [['--data', path.join(dir, 'no-folder')], `--data: folder not found: ${path.join(dir, 'no-folder')}`],
      [['--data', IMAGES], `--data: expected a folder of images, found a file: ${IMAGES}`],
      [['--dataset', 'mnist', '--image-size', '32x32'], "data source: --image-size and --channels apply to an image folder (--data <folder>), not to dataset 'mnist'"],
      [['--channels', '3'], 'data source: --image-size and --channels apply to an image folder (--data <folder>), not to no dataset'],
      [['--data-config', path.join(dir, 'missing.json')], `--data-config: file not found: ${path.join(dir, 'missing.json')}`],
    ];
    for (const [args, message] of cases) assert.equal(await failure(() => dataSourceFromFlags(parse(args), { defaults: DEFAULTS })), message, args.join(' '));
    const bad = path.join(dir, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ name: 'folder', path: 'x', height: 8 }));
    assert.match(await failure(() => dataSourceFromFlags(parse(['--data-config', bad]))), new RegExp(`^--data-config ${bad}: invalid dataset spec: .*width`));
    await fs.writeFile(bad, JSON.stringify({ name: 'svhn' }));
    assert.match(await failure(() => dataSourceFromFlags(parse(['--data-config', bad]))), /--data-config .*bad\.json: unknown dataset 'svhn'; expected one of: mnist, colored-mnist, fashion-mnist, idx, folder/);
    assert.throws(() => parse(['--channels', '2']), /--channels: expected 1 \(grayscale\) or 3 \(RGB\)/);
    assert.throws(() => parse(['--image-size', '28']), /--image-size: expected HxW, e\.g\. 28x28/);
  });

  it('prints one line per folder read inside the work, and the skipped files at debug', async () => {
    const lines: string[] = [];
    const logger: Logger = { error: () => {}, warn: () => {}, info: (m) => lines.push(`info ${m}`), debug: (m) => lines.push(`debug ${m}`) };
    const spec = { name: 'folder', path: OMNIGLOT, height: 8, width: 8, channels: 1 } as const;
    await reportingFolderReads(logger, () => Promise.all([loadDataset(spec, 'train', 0), loadDataset(spec, 'test', 0)]));
    assert.deepEqual(lines, [`info read 24 images from ${OMNIGLOT} (6 classes); skipped 1: not an image: 1 (.txt 1) (AEKIT_LOG=debug lists them)`, `debug skipped ${path.join(OMNIGLOT, 'README.txt')}: not an image`]);
  });
});
