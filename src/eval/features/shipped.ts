/**
 * The feature networks aekit ships (models/), and which image shape each scores by default: FID
 * and KID of 28x28 grayscale images use the MNIST classifier's features, of 28x28 RGB images the
 * coloured-MNIST classifier's. Every other shape needs a network given with `--features`,
 * usually pytorch-fid's InceptionV3 converted to ONNX (the numbers papers report).
 */
import * as path from 'node:path';
import { AekitError } from '../../core/errors';
import { MODELS_DIR } from '../../core/paths';
import { describeShape } from '../images';
import type { ImageShape } from '../images';

/** A shipped feature network. */
export interface ShippedFeatureNetwork {
  /** How messages name it. */
  readonly name: string;
  readonly file: string;
  /** The image shape it takes (known without the file, so that a missing file still explains itself). */
  readonly shape: Readonly<ImageShape>;
  /** The recipe that trains it. */
  readonly recipe: string;
}

/** The shipped feature networks, one per image shape. */
export const SHIPPED_FEATURE_NETWORKS: readonly ShippedFeatureNetwork[] = Object.freeze([
  Object.freeze({ name: "aekit's MNIST classifier", file: path.join(MODELS_DIR, 'mnist-classifier.onnx'), shape: Object.freeze({ height: 28, width: 28, channels: 1 }), recipe: 'experiments/mnist-classifier.json' }),
  Object.freeze({ name: "aekit's coloured-MNIST classifier", file: path.join(MODELS_DIR, 'colored-mnist-classifier.onnx'), shape: Object.freeze({ height: 28, width: 28, channels: 3 }), recipe: 'experiments/colored-mnist-classifier.json' }),
]);

/** The command that makes pytorch-fid's InceptionV3 as an ONNX feature network (docs/fid.md). */
export const INCEPTION_ONNX_COMMAND = 'python3 scripts/pytorch-fid-to-onnx.py --out inception.onnx';

/** The shipped network for images of `shape`, if aekit ships one. */
export function shippedFeatureNetwork(shape: ImageShape): ShippedFeatureNetwork | undefined {
  return SHIPPED_FEATURE_NETWORKS.find((n) => n.shape.height === shape.height && n.shape.width === shape.width && n.shape.channels === shape.channels);
}

/** The shipped network of a file path, if it is one. */
export function shippedByFile(file: string): ShippedFeatureNetwork | undefined {
  return SHIPPED_FEATURE_NETWORKS.find((n) => n.file === path.resolve(file));
}

/**
 * Why images of `shape` have no default feature network, and what to do: pass one with `flag`
 * (`--features` for `aekit eval` and `aekit fid`, `--fid <net.onnx>` for `aekit train`).
 */
export function noShippedNetwork(shape: ImageShape, flag = '--features'): string {
  const shipped = SHIPPED_FEATURE_NETWORKS.map((n) => `${describeShape(n.shape)} (${n.name})`).join(' and ');
  return (
    `no feature network for ${describeShape(shape)} images ships with aekit (it ships ${shipped}); ` +
    `pass one with ${flag}, e.g. pytorch-fid's InceptionV3 as ONNX, made with \`${INCEPTION_ONNX_COMMAND}\` (see docs/fid.md)`
  );
}

/**
 * The feature network file for images of `shape`: `given` when there is one, else the shipped
 * network for that shape. The one choice every FID and KID makes (`aekit eval`, `aekit fid`,
 * `aekit train --fid`).
 * @throws AekitError BAD_ARGUMENT (saying what to pass with `flag`) when nothing is given and no
 *   shipped network takes the shape.
 */
export function featureNetworkFor(shape: ImageShape, given?: string, flag = '--features'): string {
  if (given !== undefined) return given;
  const shipped = shippedFeatureNetwork(shape);
  if (!shipped) throw new AekitError('BAD_ARGUMENT', noShippedNetwork(shape, flag));
  return shipped.file;
}
