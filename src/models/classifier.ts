/**
 * `classifier`: a small CNN for image classification. Trained on MNIST it is aekit's FID feature
 * network: its penultimate layer (`features`, after ReLU) gives the activations whose statistics
 * FID compares, in the role Inception-v3's pool3 plays in pytorch-fid.
 *
 * classifier part: image -> [logits, features]
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { accuracy, softmaxCrossEntropy } from './losses';
import { trainableVariables } from './ae';
import { Initialisers, activate, batchNorm, batchNormMomentumSchema, dense, hiddenActivationSchema, imageInput } from './layers';
import type { DataShape, FamilyDefinition, FamilyModel, LossTerms, PartIoNames, PartName, TrainBatch, TrainingPhase } from './types';

export const classifierConfigSchema = z.object({
  family: z.literal('classifier'),
  /** Channels of the conv blocks; each block is conv3x3 -> (BN) -> act -> maxpool 2x2. */
  convChannels: z.array(z.number().int().positive()).min(1).default([32, 64]),
  /** Width of the penultimate (feature) layer. */
  featureSize: z.number().int().positive().default(128),
  activation: hiddenActivationSchema.default('relu'),
  batchNorm: z.boolean().default(true),
  /** With batchNorm: how far each step moves the running statistics, in PyTorch's convention (default 0.1, as torch.nn.BatchNorm2d; layers.ts BATCH_NORM_MOMENTUM). */
  batchNormMomentum: batchNormMomentumSchema,
});
export type ClassifierConfig = z.output<typeof classifierConfigSchema>;

/** CNN classifier with a `features` output. */
export class Classifier implements FamilyModel<ClassifierConfig> {
  readonly parts: { classifier: tf.LayersModel };
  readonly phases: readonly TrainingPhase[];
  readonly conditional = false;
  readonly ioNames: Partial<Record<PartName, PartIoNames>> = { classifier: { inputs: ['image'], outputs: ['logits', 'features'] } };

  constructor(
    readonly config: ClassifierConfig,
    readonly shape: DataShape,
    seed: number,
  ) {
    const init = new Initialisers(seed, 'classifier');
    const image = imageInput(shape);
    let h = image;
    config.convChannels.forEach((filters, i) => {
      h = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: init.kernel(), useBias: !config.batchNorm, name: `conv${i}` }).apply(h) as tf.SymbolicTensor;
      if (config.batchNorm) h = batchNorm(config.batchNormMomentum, `bn${i}`).apply(h) as tf.SymbolicTensor;
      h = activate(h, config.activation, `act${i}`);
      h = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: `pool${i}` }).apply(h) as tf.SymbolicTensor;
    });
    h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor;
    const features = dense(h, config.featureSize, config.activation, init, 'features');
    // No dropout: tfjs's seeded dropout repeats one mask every step, and BatchNorm alone reaches
    // the >= 99% MNIST accuracy the FID network needs.
    const logits = dense(features, shape.numClasses, 'linear', init, 'logits');
    this.parts = { classifier: tf.model({ inputs: image, outputs: [logits, features], name: 'classifier' }) };
    this.phases = [
      {
        name: 'classifier',
        variables: () => trainableVariables(this.parts.classifier),
        loss: (batch) => this.loss(batch),
      },
    ];
  }

  private loss(batch: TrainBatch): LossTerms {
    const [logits] = this.parts.classifier.apply(batch.x, { training: true }) as tf.Tensor2D[];
    const crossEntropy = softmaxCrossEntropy(logits, batch.labels);
    return { total: crossEntropy, terms: { total: crossEntropy, accuracy: accuracy(logits, batch.labels) } };
  }

  evaluateBatch(batch: TrainBatch): Record<string, tf.Scalar> {
    const [logits] = this.parts.classifier.apply(batch.x, { training: false }) as tf.Tensor2D[];
    return { crossEntropy: softmaxCrossEntropy(logits, batch.labels), accuracy: accuracy(logits, batch.labels) };
  }

  dispose(): void {
    this.parts.classifier.dispose();
  }
}

export const classifierFamily: FamilyDefinition<ClassifierConfig> = {
  name: 'classifier',
  description: 'Small CNN classifier; on MNIST it is the FID feature network (penultimate layer `features`).',
  configSchema: classifierConfigSchema,
  tinyConfig: { family: 'classifier', convChannels: [4, 8], featureSize: 8 },
  exportParts: ['classifier'],
  evaluation: { metrics: ['accuracy'] },
  needsLabels: true,
  build: (config, shape, seed) => new Classifier(config, shape, seed),
};
