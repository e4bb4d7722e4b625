/**
 * The data a model is evaluated on: the dataset `evaluate` was given, an image folder read at the
 * model's image size, the run's own dataset, or the one named in the artifacts, loaded with the
 * run's split seed and checked against the image shape of every part.
 */
import { AekitError } from '../core/errors';
import { HOLDOUT_FRACTIONS, loadDataset, namedDatasetSpec, parseDatasetSpec } from '../data/registry';
import type { DatasetSpec } from '../data/registry';
import type { ImageDataset } from '../data/types';
import { describeShape } from './images';
import type { ImageShape } from './images';
import { ModelIo } from './model-io';
import type { OnnxModel } from './onnx-session';
import type { EvaluateOptions } from './options';
import type { StageTimer } from './stage-timer';
import type { LoadedTarget } from './target';

/** A loaded model and the data it is evaluated on: what decides which metrics apply. */
export interface EvalData {
  readonly options: EvaluateOptions;
  readonly target: LoadedTarget;
  /** The target seen through its family's conventions. */
  readonly io: ModelIo;
  readonly spec: DatasetSpec;
  readonly test: ImageDataset;
  readonly train: ImageDataset;
  /**
   * The seed the data's hold-out split (image folders, IDX pairs) and coloured MNIST's tints are
   * drawn with: the run's `train.seed` when the target is in a run folder, else eval's seed.
   */
  readonly dataSeed: number;
  /** The image shape of the data and of every part. */
  readonly shape: ImageShape;
}

/** The name a dataset goes by in messages: an image folder's path, else the dataset's name. */
export function datasetName(spec: DatasetSpec): string {
  return spec.name === 'folder' ? spec.path : spec.name;
}

/**
 * Pick the dataset (`options.data`, `options.dataset`, the run's, the artifacts'), load both
 * splits and check every part's image shape against them.
 * @throws AekitError BAD_ARGUMENT for a dataset and a folder together, a dataset eval cannot name,
 *   or an image shape that differs from the data's; the data loaders' errors.
 */
export async function loadEvalData(target: LoadedTarget, options: EvaluateOptions, stages: StageTimer): Promise<EvalData> {
  const parts = target.parts;
  const first = (parts.encoder ?? parts.decoder ?? parts.generator ?? parts.generatorAB ?? parts.classifier)!;
  if (options.data !== undefined && options.dataset !== undefined) {
    throw new AekitError('BAD_ARGUMENT', `give a dataset (--dataset ${options.dataset.name}) or an image folder (--data ${options.data}), not both`, { where: 'dataset' });
  }
  const spec = options.data !== undefined ? folderSpec(options.data, first) : options.dataset ? parseDatasetSpec(options.dataset) : (target.runDataset ?? datasetFromMetadata(first.metadata.dataset));
  if (!spec) {
    throw new AekitError('BAD_ARGUMENT', `the model was trained on '${first.metadata.dataset}', which eval cannot load by name; pass the dataset (--dataset) or an image folder (--data)`, {
      where: `${first.path}: aekit.dataset`,
    });
  }
  const dataSeed = target.runSeed ?? options.seed ?? 0;
  const [test, train] = await stages.timed('load data', () => Promise.all([loadDataset(spec, 'test', dataSeed), loadDataset(spec, 'train', dataSeed)]));
  checkTestImages(spec, test.count, test.count + train.count);
  const shape = checkShapes(target, test, datasetName(spec));
  return { options, target, io: new ModelIo(target, shape), spec, test, train, dataSeed, shape };
}

/**
 * Refuses data that leaves no test image (a folder of under 10 images): every metric compares the
 * model with images it did not train on, so there would be nothing to compute.
 * @throws AekitError BAD_DATA naming the dataset, its size and what would do.
 */
function checkTestImages(spec: DatasetSpec, testCount: number, total: number): void {
  if (testCount > 0) return;
  const heldOut = spec.name === 'folder' || (spec.name === 'idx' && spec.testImages === undefined);
  const [percent, least] = [Math.round(100 * HOLDOUT_FRACTIONS[1]), Math.ceil(1 / HOLDOUT_FRACTIONS[1])];
  const why = heldOut ? `the ${percent}% of its ${total} image${total === 1 ? '' : 's'} held out for testing is none (${least} images or more leave one)` : 'its test split is empty';
  throw new AekitError('BAD_DATA', `no test images to evaluate on: ${why}; give more images, or evaluate on other images (--data <folder>, --dataset, --idx)`, { where: datasetName(spec) });
}

/** The dataset of `options.data`: the folder read at the image shape of the model's artifact `model`. */
function folderSpec(folder: string, model: OnnxModel): DatasetSpec {
  const shape = model.info.imageShape;
  if (!shape) throw new AekitError('BAD_DATA', 'the artifact has no image shape to read the folder at', { where: `${model.path}: aekit.imageShape` });
  if (shape.channels !== 1 && shape.channels !== 3) {
    throw new AekitError('BAD_ARGUMENT', `an image folder is read as grayscale or RGB, but the model takes ${shape.channels} channels`, { where: `${model.path}: aekit.imageShape.channels` });
  }
  return { name: 'folder', path: folder, height: shape.height, width: shape.width, channels: shape.channels };
}

/** The dataset named in artifact metadata, when eval can load it by name (mnist, colored-mnist, fashion-mnist). */
function datasetFromMetadata(name: string): DatasetSpec | undefined {
  return namedDatasetSpec(name);
}

/** The image shape all parts agree on, checked against the dataset. */
function checkShapes(target: LoadedTarget, data: ImageDataset, datasetName: string): ImageShape {
  const shape: ImageShape = { height: data.height, width: data.width, channels: data.channels };
  for (const model of Object.values(target.parts)) {
    const own = model.info.imageShape;
    if (!own) throw new AekitError('BAD_DATA', 'the artifact has no image shape', { where: `${model.path}: aekit.imageShape` });
    for (const field of ['channels', 'height', 'width'] as const) {
      if (own[field] !== shape[field]) {
        throw new AekitError('BAD_ARGUMENT', `the model takes images with ${field} = ${own[field]}, but dataset '${datasetName}' has ${field} = ${shape[field]} (${describeShape(shape)})`, {
          where: `${model.path}: aekit.imageShape.${field}`,
        });
      }
    }
  }
  return shape;
}
