/**
 * The data layer: IDX files, bundled MNIST, image folders, value ranges and noise, splits and
 * batches, and the dataset registry used by configs and the CLI.
 */
export { Rng } from '../core/rng';
export type { FolderDataset, FolderReadReport, ImageDataset, Rgb, SkippedFile, TintedDataset, ValueRange } from './types';
export { readIdx, loadIdxDataset, type IdxArray, type IdxDataType, type IdxDatasetOptions, type IdxFile } from './idx';
export { loadMnist, loadIdxSplit, clearMnistCache, mnistDataDir, MNIST_COUNTS, IDX_SPLIT_FILES, type IdxSplitSource, type MnistOptions, type Split } from './mnist';
export { loadImageFolder, loadImageFiles, type ImageFolderOptions } from './image-folder';
export { ImageStream, type ImageStreamOptions, type ImageBatch, type ImageBatchOptions, type FirstImage } from './image-stream';
export { IMAGE_EXTENSIONS, isHiddenEntry, scanFolder, type ClassFolder, type FolderScan } from './folder-scan';
export { BT601_LUMA, decodeImage, toChannels, type AlphaHandling } from './image-decode';
export { SKIP_REASONS, type DecodedImage, type DecodeFailure, type DecodeResult, type SkipReason } from './decode-types';
export { formatFolderReport, observeFolderReads, skippedFileLines } from './folder-report';
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
  NAMED_DATASETS,
  isNamedDataset,
  namedDatasetSpec,
  HOLDOUT_FRACTIONS,
  type NamedDataset,
  type ColorSetName,
  type DatasetSpec,
} from './registry';
export { loadFashionMnist, fashionMnistDir, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, FASHION_MNIST_DIR_ENV, FASHION_MNIST_PACKAGE } from './fashion-mnist';
export { datasetClasses, loadedClasses, labelProblem, requireLabels, MIN_CLASSES, type DatasetClasses } from './labels';
