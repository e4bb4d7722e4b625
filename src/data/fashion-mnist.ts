import * as fs from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import { IDX_SPLIT_FILES, loadIdxSplit, MNIST_COUNTS, type MnistOptions, type Split } from './mnist';
import type { ImageDataset } from './types';

/**
 * Fashion-MNIST (Xiao et al. 2017) where an installed package provides it: Debian's
 * `dataset-fashion-mnist` puts the four gzipped IDX files in /usr/share/datasets/fashion-mnist.
 * Nothing is downloaded; elsewhere, point `--idx` at the files.
 */

/** Where Debian's dataset-fashion-mnist installs the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Overrides {@link FASHION_MNIST_DIR} (another install, or a test without the package). */
export const FASHION_MNIST_DIR_ENV = 'AEKIT_FASHION_MNIST_DIR';

/** The Debian package that provides the files. */
export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

/** Class names by label, from the data set's README. */
export const FASHION_MNIST_CLASSES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The folder the files are read from: `$AEKIT_FASHION_MNIST_DIR`, else {@link FASHION_MNIST_DIR}. */
export function fashionMnistDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[FASHION_MNIST_DIR_ENV] || FASHION_MNIST_DIR;
}

/** The suffix the files carry in `dir` ('.gz' as Debian ships them, '' once unpacked), or undefined when missing. */
function fileSuffix(dir: string): string | undefined {
  const all = (suffix: string) => Object.values(IDX_SPLIT_FILES).every((f) => fs.existsSync(path.join(dir, f.images + suffix)) && fs.existsSync(path.join(dir, f.labels + suffix)));
  return ['.gz', ''].find(all);
}

/**
 * Loads a Fashion-MNIST split (60,000 train / 10,000 test, 28x28x1, class names from
 * {@link FASHION_MNIST_CLASSES}), parsed once per process like MNIST.
 * @throws AekitError FILE_NOT_FOUND naming the folder, the files and the Debian package when the
 *   files are not installed.
 */
export function loadFashionMnist(split: Split, opts: MnistOptions = {}): ImageDataset {
  const dir = fashionMnistDir();
  const suffix = fileSuffix(dir);
  if (suffix === undefined) {
    const files = Object.values(IDX_SPLIT_FILES).flatMap((f) => [f.images, f.labels]);
    throw new AekitError(
      'FILE_NOT_FOUND',
      `Fashion-MNIST is not installed: expected ${files.map((f) => `${f}.gz`).join(', ')}. ` +
        `Install Debian's package (sudo apt-get install ${FASHION_MNIST_PACKAGE}), set ${FASHION_MNIST_DIR_ENV} to a folder holding the files, ` +
        'or give the files with --idx <images> --idx-labels <labels>',
      { where: dir },
    );
  }
  return loadIdxSplit({ name: 'fashion-mnist', dir, suffix, counts: MNIST_COUNTS, classNames: FASHION_MNIST_CLASSES }, split, opts);
}
