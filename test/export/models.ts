/**
 * Small hand-built tfjs models that together cover every layer class and activation the ONNX
 * converter supports, with seeded weights and non-trivial BatchNorm statistics.
 */
import { Rng } from '../../src/core/rng';
import { tf } from '../../src/core/tfjs-backend';
import type { ArtifactMetadataInput } from '../../src/export';

/** A test model plus what its export needs to know. */
export interface TestModel {
  name: string;
  model: tf.LayersModel;
  part: string;
  metadata: ArtifactMetadataInput;
}

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** Seeds for layer initialisers, from one counter so every build is identical. */
class Seeds {
  private next: number;
  constructor(seed: number) {
    this.next = seed * 1000;
  }
  kernel(): Initializer {
    return tf.initializers.glorotUniform({ seed: this.next++ });
  }
  bias(): Initializer {
    // Non-zero biases, so a dropped or misplaced bias shows in the parity figures.
    return tf.initializers.randomNormal({ mean: 0, stddev: 0.2, seed: this.next++ });
  }
  embeddings(): Initializer {
    return tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: this.next++ });
  }
}

/** Give every BatchNormalization layer seeded gamma/beta/mean/variance far from the defaults. */
function setBatchNormStatistics(model: tf.LayersModel, seed: number): void {
  const rng = Rng.derive(seed, 'batchnorm');
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const weights = layer.weights.map((w) => {
      const shape = w.shape.map((d) => d ?? 1);
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, () => rng.next());
      // Variances and scales positive and away from 1; means and offsets in [-1, 1].
      if (/moving_variance|gamma/.test(w.originalName)) return tf.tensor(values.map((v) => 0.3 + 1.5 * v), shape);
      return tf.tensor(values.map((v) => 2 * v - 1), shape);
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

const baseMetadata = (family: string): ArtifactMetadataInput => ({
  family,
  valueRange: 'unit',
  dataset: 'synthetic',
  runId: 'test-run',
  createdAt: '2025-01-01T00:00:00.000Z',
});

/** MLP VAE-style encoder: Dense/BatchNorm(rank 2)/Dropout, two outputs (mu, logvar). */
function mlpEncoder(): TestModel {
  const s = new Seeds(1);
  const x = tf.input({ shape: [12], name: 'x' });
  let h = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(x) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 16, activation: 'elu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.5 }).apply(h) as tf.SymbolicTensor;
  const mu = tf.layers.dense({ units: 4, name: 'mu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  const logvar = tf.layers
    .dense({ units: 4, activation: 'softplus', name: 'logvar', kernelInitializer: s.kernel(), biasInitializer: s.bias() })
    .apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: [mu, logvar], name: 'mlp_encoder' });
  return { name: 'mlp-encoder', model, part: 'encoder', metadata: { ...baseMetadata('vae'), latentSize: 4 } };
}

/**
 * Conv encoder on a non-square, odd-sized image: strides 2, 'same' and 'valid', kernels 3/4/5,
 * a conv without bias, LeakyReLU, then Flatten -> Dense with H, W and C all > 1 (NHWC order).
 */
function convEncoder(): TestModel {
  const s = new Seeds(2);
  const image = tf.input({ shape: [17, 15, 3], name: 'image' });
  let h = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() })
    .apply(image) as tf.SymbolicTensor; // 9x8
  h = tf.layers.conv2d({ filters: 8, kernelSize: 5, padding: 'valid', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor; // 5x4
  h = tf.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers
    .conv2d({ filters: 6, kernelSize: 4, strides: 2, padding: 'same', useBias: false, activation: 'tanh', kernelInitializer: s.kernel() })
    .apply(h) as tf.SymbolicTensor; // 3x2
  h = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(
    tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]] }).apply(h) as tf.SymbolicTensor,
  ) as tf.SymbolicTensor; // padded 5x4 -> 2x1
  const flat = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const mu = tf.layers.dense({ units: 5, name: 'mu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(flat) as tf.SymbolicTensor;
  const logvar = tf.layers.dense({ units: 5, name: 'logvar', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: image, outputs: [mu, logvar], name: 'conv_encoder' });
  return { name: 'conv-encoder', model, part: 'encoder', metadata: { ...baseMetadata('vae'), latentSize: 5 } };
}

/** Conv encoder whose Flatten sees H, W, C all > 1 (the NHWC flatten order matters). */
function convFlattenEncoder(): TestModel {
  const s = new Seeds(3);
  const image = tf.input({ shape: [16, 12, 2], name: 'image' });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(image) as tf.SymbolicTensor; // 8x6
  h = tf.layers.conv2d({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor; // 4x3
  const flat = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const code = tf.layers.dense({ units: 6, name: 'code', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: image, outputs: code, name: 'conv_flatten_encoder' });
  return { name: 'conv-flatten-encoder', model, part: 'encoder', metadata: { ...baseMetadata('ae'), latentSize: 6 } };
}

/** Decoder: Dense -> Reshape (non-square) -> Conv2DTranspose ('same' stride 2 with kernels 3, 4, 5; 'valid'), BN, sigmoid. */
function convDecoder(): TestModel {
  const s = new Seeds(4);
  const z = tf.input({ shape: [6], name: 'z' });
  let h = tf.layers.dense({ units: 4 * 3 * 8, activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(z) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [4, 3, 8] }).apply(h) as tf.SymbolicTensor;
  h = tf.layers
    .conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() })
    .apply(h) as tf.SymbolicTensor; // 8x6
  h = tf.layers
    .conv2dTranspose({ filters: 6, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: s.kernel() })
    .apply(h) as tf.SymbolicTensor; // 16x12
  h = tf.layers.batchNormalization({ epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  h = tf.layers
    .conv2dTranspose({ filters: 4, kernelSize: 5, strides: 2, padding: 'same', activation: 'elu', kernelInitializer: s.kernel(), biasInitializer: s.bias() })
    .apply(h) as tf.SymbolicTensor; // 32x24
  h = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 1, padding: 'valid', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor; // 34x26
  h = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'valid', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor; // 70x54
  h = tf.layers.cropping2D({ cropping: [[3, 3], [1, 5]] }).apply(h) as tf.SymbolicTensor; // 64x48
  const out = tf.layers.activation({ activation: 'sigmoid', name: 'image' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: z, outputs: out, name: 'conv_decoder' });
  return { name: 'conv-decoder', model, part: 'decoder', metadata: { ...baseMetadata('vae'), latentSize: 6 } };
}

/** Conditional decoder: z and a one-hot label, Concatenate, Reshape [1,1,C], UpSampling, conv. */
function conditionalDecoder(): TestModel {
  const s = new Seeds(5);
  const z = tf.input({ shape: [4], name: 'z' });
  const label = tf.input({ shape: [5], name: 'label' });
  let h = tf.layers.concatenate().apply([z, label]) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 3 * 2 * 4, activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [3, 2, 4] }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.upSampling2d({ size: [2, 2] }).apply(h) as tf.SymbolicTensor; // 6x4
  h = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid', name: 'image', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [z, label], outputs: h, name: 'cvae_decoder' });
  return {
    name: 'cvae-decoder',
    model,
    part: 'decoder',
    metadata: { ...baseMetadata('cvae'), latentSize: 4, numClasses: 5, labelInput: { name: 'label', encoding: 'one-hot' } },
  };
}

/** Conditional encoder: image and one-hot label; Concatenate after Flatten; Reshape [1,1,C] path. */
function conditionalEncoder(): TestModel {
  const s = new Seeds(6);
  const image = tf.input({ shape: [8, 8, 1], name: 'image' });
  const label = tf.input({ shape: [5], name: 'label' });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(image) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = tf.layers.concatenate({ axis: -1 }).apply([h, label]) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  // Dense -> Reshape to [1, 1, C] -> Flatten exercises the no-transpose layout shortcut.
  h = tf.layers.reshape({ targetShape: [1, 1, 8] }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const mu = tf.layers.dense({ units: 3, name: 'mu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  const logvar = tf.layers.dense({ units: 3, name: 'logvar', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [image, label], outputs: [mu, logvar], name: 'cvae_encoder' });
  return {
    name: 'cvae-encoder',
    model,
    part: 'encoder',
    metadata: { ...baseMetadata('cvae'), latentSize: 3, numClasses: 5, labelInput: { name: 'label', encoding: 'one-hot' } },
  };
}

/** Classifier: BN (rank 4), ReLU layer, max/avg pooling ('same' with a partial window), Dropout, GAP, softmax, features output. */
function classifier(): TestModel {
  const s = new Seeds(7);
  const image = tf.input({ shape: [11, 13, 1], name: 'image' });
  let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(image) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor; // 5x6
  h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h) as tf.SymbolicTensor; // 3x3
  h = tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.3 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const features = tf.layers.dense({ units: 16, activation: 'relu', name: 'features', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(h) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 10, kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(features) as tf.SymbolicTensor;
  const probs = tf.layers.softmax({ name: 'probs' }).apply(logits) as tf.SymbolicTensor;
  const model = tf.model({ inputs: image, outputs: [probs, features], name: 'classifier' });
  return { name: 'classifier', model, part: 'classifier', metadata: { ...baseMetadata('mnist-classifier'), numClasses: 10 } };
}

/**
 * Merge and resize layers on images: Add, Multiply, Average, Maximum, Minimum,
 * Concatenate on the H, W and C axes, UpSampling2D nearest and bilinear, Dense on a rank-4
 * tensor, GlobalMaxPooling2D, and a shared layer applied twice.
 */
function mergeAndResize(): TestModel {
  const s = new Seeds(8);
  const image = tf.input({ shape: [6, 5, 4], name: 'image' });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(image) as tf.SymbolicTensor;
  const b = tf.layers.activation({ activation: 'sigmoid' }).apply(image) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
  const product = tf.layers.multiply().apply([sum, image]) as tf.SymbolicTensor;
  const mean = tf.layers.average().apply([product, b, a]) as tf.SymbolicTensor;
  const high = tf.layers.maximum().apply([mean, b]) as tf.SymbolicTensor;
  const low = tf.layers.minimum().apply([high, sum]) as tf.SymbolicTensor;
  const near = tf.layers.upSampling2d({ size: [2, 3] }).apply(low) as tf.SymbolicTensor; // 12x15
  const smooth = tf.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear' }).apply(high) as tf.SymbolicTensor;
  const stackedH = tf.layers.concatenate({ axis: 1 }).apply([near, smooth]) as tf.SymbolicTensor; // 24x15x4
  const stackedW = tf.layers.concatenate({ axis: 2 }).apply([near, smooth]) as tf.SymbolicTensor; // 12x30x4
  const stackedC = tf.layers.concatenate({ axis: 3 }).apply([near, smooth]) as tf.SymbolicTensor; // 12x15x8
  const shared = tf.layers.dense({ units: 3, activation: 'tanh', kernelInitializer: s.kernel(), biasInitializer: s.bias() });
  const projected = shared.apply(stackedH) as tf.SymbolicTensor; // Dense on rank 4, channel axis
  const projectedAgain = shared.apply(stackedW) as tf.SymbolicTensor; // same weights, second node
  const pooledW = tf.layers.globalMaxPooling2d({}).apply(projectedAgain) as tf.SymbolicTensor;
  const pooledC = tf.layers.globalMaxPooling2d({}).apply(stackedC) as tf.SymbolicTensor;
  const model = tf.model({ inputs: image, outputs: [projected, pooledW, pooledC], name: 'merge_resize' });
  return { name: 'merge-resize', model, part: 'generator', metadata: { ...baseMetadata('test'), valueRange: 'symmetric' } };
}

/** Embedding on a class index (float input) and on an int32 sequence; Dense, BatchNorm and Softmax on rank 3. */
function embeddingModel(): TestModel {
  const s = new Seeds(9);
  const label = tf.input({ shape: [1], name: 'label' });
  const tokens = tf.input({ shape: [4], name: 'tokens', dtype: 'int32' });
  let l = tf.layers.embedding({ inputDim: 16, outputDim: 8, embeddingsInitializer: s.embeddings() }).apply(label) as tf.SymbolicTensor;
  l = tf.layers.flatten().apply(l) as tf.SymbolicTensor;
  l = tf.layers.dense({ units: 5, activation: 'tanh', name: 'label_code', kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(l) as tf.SymbolicTensor;
  let t = tf.layers.embedding({ inputDim: 20, outputDim: 8, embeddingsInitializer: s.embeddings() }).apply(tokens) as tf.SymbolicTensor;
  t = tf.layers.dense({ units: 4, kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(t) as tf.SymbolicTensor; // [B, 4, 4]
  t = tf.layers.batchNormalization().apply(t) as tf.SymbolicTensor; // rank 3: channels not at ONNX axis 1
  t = tf.layers.softmax({ axis: -1, name: 'token_probs' }).apply(t) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [label, tokens], outputs: [l, t], name: 'embedding' });
  return {
    name: 'embedding',
    model,
    part: 'encoder',
    metadata: { ...baseMetadata('test'), numClasses: 16, labelInput: { name: 'label', encoding: 'index' } },
  };
}

/** Every activation name the converter supports, one Dense head each, plus the ELU and ReLU(maxValue) layers. */
function activationSweep(): TestModel {
  const s = new Seeds(10);
  const x = tf.input({ shape: [24], name: 'x' });
  const names = ['relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softplus', 'softsign', 'softmax', 'linear', 'swish', 'mish', 'gelu', 'gelu_new'] as const;
  const outputs = names.map(
    (activation) =>
      tf.layers.dense({ units: 6, activation, name: `act_${activation}`, kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(x) as tf.SymbolicTensor,
  );
  // logSoftmax is a registered tfjs activation missing from the ActivationIdentifier type.
  outputs.push(
    tf.layers
      .dense({ units: 6, activation: 'logSoftmax' as 'softmax', name: 'act_logSoftmax', kernelInitializer: s.kernel(), biasInitializer: s.bias() })
      .apply(x) as tf.SymbolicTensor,
  );
  const pre = tf.layers.dense({ units: 6, kernelInitializer: s.kernel(), biasInitializer: s.bias() }).apply(x) as tf.SymbolicTensor;
  outputs.push(tf.layers.elu({ name: 'elu_layer' }).apply(pre) as tf.SymbolicTensor);
  outputs.push(tf.layers.reLU({ maxValue: 0.5, name: 'relu_max' }).apply(pre) as tf.SymbolicTensor);
  outputs.push(tf.layers.leakyReLU({ alpha: 1.5, name: 'leaky_whole_alpha' }).apply(pre) as tf.SymbolicTensor);
  const model = tf.model({ inputs: x, outputs, name: 'activations' });
  return { name: 'activations', model, part: 'test', metadata: baseMetadata('test') };
}

/** A Sequential model (default names come from the auto-created input layer). */
function sequentialMlp(): TestModel {
  const s = new Seeds(11);
  const model = tf.sequential({
    name: 'sequential_mlp',
    layers: [
      tf.layers.dense({ units: 16, inputShape: [8], activation: 'relu', kernelInitializer: s.kernel(), biasInitializer: s.bias() }),
      tf.layers.gaussianNoise({ stddev: 0.5 }),
      tf.layers.dense({ units: 3, activation: 'sigmoid', kernelInitializer: s.kernel(), biasInitializer: s.bias() }),
    ],
  });
  return { name: 'sequential', model, part: 'decoder', metadata: baseMetadata('test') };
}

const BUILDERS: Readonly<Record<string, () => TestModel>> = Object.freeze({
  'mlp-encoder': mlpEncoder,
  'conv-encoder': convEncoder,
  'conv-flatten-encoder': convFlattenEncoder,
  'conv-decoder': convDecoder,
  'cvae-decoder': conditionalDecoder,
  'cvae-encoder': conditionalEncoder,
  classifier,
  'merge-resize': mergeAndResize,
  embedding: embeddingModel,
  activations: activationSweep,
  sequential: sequentialMlp,
});

/** Names of the test models, for defining one test per model. */
export const TEST_MODEL_NAMES: readonly string[] = Object.keys(BUILDERS);

/** Build one test model (the tfjs backend must be set; the caller disposes it). */
export function buildTestModel(name: string): TestModel {
  const built = BUILDERS[name]();
  setBatchNormStatistics(built.model, TEST_MODEL_NAMES.indexOf(name));
  return built;
}
