/**
 * Building blocks shared by the families: seeded initialisers and the conv/MLP stacks. Every layer
 * gets its own initialiser seed drawn from the model seed, so two builds with the same seed have
 * identical weights on every backend.
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import type { DataShape } from './types';

/** Activation names the zoo uses (all of them convert to ONNX). */
export const HIDDEN_ACTIVATIONS = ['relu', 'leakyRelu', 'elu', 'tanh'] as const;
export type HiddenActivation = (typeof HIDDEN_ACTIVATIONS)[number];
export const hiddenActivationSchema = z.enum(HIDDEN_ACTIVATIONS);

/** Slope of leakyRelu, as in the DCGAN paper and PyTorch tutorial. */
export const LEAKY_RELU_ALPHA = 0.2;

/**
 * BatchNorm momentum in PyTorch's convention, the one aekit's configs use: after each training
 * step running = (1 - m)·running + m·batch. 0.1 is PyTorch's default (torch.nn.BatchNorm2d).
 * tfjs-layers' `momentum` weighs the running value instead, and its default 0.99 (PyTorch's 0.01)
 * leaves the running statistics far from the data after one epoch of a small run, so validation
 * (which normalises with them) lags training badly.
 */
export const BATCH_NORM_MOMENTUM = 0.1;

/** The `batchNormMomentum` config field: PyTorch's convention, (0, 1]. */
export const batchNormMomentumSchema = z.number().gt(0).max(1).default(BATCH_NORM_MOMENTUM);

/** A BatchNorm layer whose running statistics move by `momentum` (PyTorch's convention) per step. */
export function batchNorm(momentum: number, name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ momentum: 1 - momentum, name });
}

/** Seeded initialisers for one model. */
export class Initialisers {
  private readonly rng: Rng;

  constructor(seed: number, scope: string) {
    this.rng = Rng.derive(seed, 'init', scope);
  }

  /** Glorot-uniform kernel initialiser with a fresh seed (tfjs-layers' default, made reproducible). */
  kernel(): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.glorotUniform({ seed: this.rng.seed() });
  }

  /** Normal initialiser with a fresh seed (DCGAN: kernels N(0, 0.02), BatchNorm gamma N(1, 0.02)). */
  normal(mean: number, stddev: number): ReturnType<typeof tf.initializers.randomNormal> {
    return tf.initializers.randomNormal({ mean, stddev, seed: this.rng.seed() });
  }
}

/** Dense layer followed by the activation (as a separate layer, so leakyRelu keeps its alpha). */
export function dense(
  input: tf.SymbolicTensor,
  units: number,
  activation: HiddenActivation | 'linear' | 'sigmoid' | 'softmax',
  init: Initialisers,
  name: string,
): tf.SymbolicTensor {
  const y = tf.layers.dense({ units, kernelInitializer: init.kernel(), name }).apply(input) as tf.SymbolicTensor;
  return activate(y, activation, `${name}_act`);
}

/** Apply an activation by name (identity for 'linear'). */
export function activate(
  x: tf.SymbolicTensor,
  activation: HiddenActivation | 'linear' | 'sigmoid' | 'softmax',
  name: string,
): tf.SymbolicTensor {
  switch (activation) {
    case 'linear':
      return x;
    case 'leakyRelu':
      return tf.layers.leakyReLU({ alpha: LEAKY_RELU_ALPHA, name }).apply(x) as tf.SymbolicTensor;
    default:
      return tf.layers.activation({ activation, name }).apply(x) as tf.SymbolicTensor;
  }
}

/** The output activation that produces images in a value range. */
export function imageActivation(shape: DataShape): 'sigmoid' | 'tanh' {
  return shape.valueRange === 'unit' ? 'sigmoid' : 'tanh';
}

/**
 * Strided conv stack: each entry halves height and width (kernel 4, stride 2, 'same', as in DCGAN
 * and most course-report AEs), optionally with BatchNorm.
 */
export function convDown(
  x: tf.SymbolicTensor,
  channels: readonly number[],
  opts: { activation: HiddenActivation; batchNorm: boolean; batchNormMomentum: number; kernelSize?: number },
  init: Initialisers,
  prefix: string,
): tf.SymbolicTensor {
  let y = x;
  channels.forEach((filters, i) => {
    y = tf.layers
      .conv2d({ filters, kernelSize: opts.kernelSize ?? 4, strides: 2, padding: 'same', kernelInitializer: init.kernel(), useBias: !opts.batchNorm, name: `${prefix}_conv${i}` })
      .apply(y) as tf.SymbolicTensor;
    if (opts.batchNorm) y = batchNorm(opts.batchNormMomentum, `${prefix}_bn${i}`).apply(y) as tf.SymbolicTensor;
    y = activate(y, opts.activation, `${prefix}_act${i}`);
  });
  return y;
}

/**
 * Transposed-conv stack, each entry doubling height and width; the last layer maps to the image
 * channels with `finalActivation`.
 */
export function convUp(
  x: tf.SymbolicTensor,
  channels: readonly number[],
  outChannels: number,
  opts: { activation: HiddenActivation; batchNorm: boolean; batchNormMomentum: number; finalActivation: 'sigmoid' | 'tanh'; kernelSize?: number },
  init: Initialisers,
  prefix: string,
): tf.SymbolicTensor {
  let y = x;
  const all = [...channels, outChannels];
  all.forEach((filters, i) => {
    const last = i === all.length - 1;
    y = tf.layers
      .conv2dTranspose({ filters, kernelSize: opts.kernelSize ?? 4, strides: 2, padding: 'same', kernelInitializer: init.kernel(), useBias: last || !opts.batchNorm, name: `${prefix}_deconv${i}` })
      .apply(y) as tf.SymbolicTensor;
    if (last) {
      y = activate(y, opts.finalActivation, `${prefix}_out`);
    } else {
      if (opts.batchNorm) y = batchNorm(opts.batchNormMomentum, `${prefix}_bn${i}`).apply(y) as tf.SymbolicTensor;
      y = activate(y, opts.activation, `${prefix}_act${i}`);
    }
  });
  return y;
}

/** Height/width after `halvings` stride-2 'same' convs; checks the decoder can mirror it exactly. */
export function downsampledSize(shape: DataShape, halvings: number, where: string): { height: number; width: number } {
  const factor = 2 ** halvings;
  if (shape.height % factor !== 0 || shape.width % factor !== 0) {
    throw new AekitError(
      'BAD_CONFIG',
      `a conv stack of ${halvings} stride-2 layers needs image height and width divisible by ${factor}, found ${shape.height}x${shape.width}; use fewer convChannels or resize the data`,
      { where },
    );
  }
  return { height: shape.height / factor, width: shape.width / factor };
}

/** Number of trainable scalars of a set of models (for logs and the bench). */
export function countParameters(models: readonly tf.LayersModel[]): number {
  return models.reduce((sum, m) => sum + m.countParams(), 0);
}

/** Image input of a part. */
export function imageInput(shape: DataShape, name = 'image'): tf.SymbolicTensor {
  return tf.input({ shape: [shape.height, shape.width, shape.channels], name });
}
