/**
 * The data layer: IDX files, bundled MNIST, image folders, value ranges and noise, splits and
 * batches, and the dataset registry used by configs and the CLI.
 */
export type { FolderDataset, ImageDataset, Rgb, TintedDataset, ValueRange } from './types';
export { readIdx, loadIdxDataset, type IdxArray, type IdxDataType, type IdxDatasetOptions, type IdxFile } from './idx';
export { loadMnist, clearMnistCache, mnistDataDir, MNIST_COUNTS, type MnistOptions, type Split } from './mnist';
export { loadImageFolder, loadImageFiles, IMAGE_EXTENSIONS, BT601_LUMA, type ImageFolderOptions } from './image-folder';
export { resizeImage } from './resize';
export { VALUE_RANGES } from './types';
export {
  COLOR_SETS,
  toRange,
  fromRange,
  tint,
  gaussianNoise,
  maskingNoise,
  saltAndPepperNoise,
  type TintOptions,
} from './transforms';
export { splitIndices, subset, SPLIT_SUM_TOLERANCE } from './split';
export { epochOrder, batches, type Batch, type BatchOptions } from './batches';
export {
  loadDataset,
  parseDatasetSpec,
  datasetSpecSchema,
  DATASET_NAMES,
  HOLDOUT_FRACTIONS,
  type ColorSetName,
  type DatasetSpec,
} from './registry';
