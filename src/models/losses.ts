/**
 * Loss terms. Every reconstruction loss says its reduction explicitly: `sum` adds over pixels (the
 * per-image total, as in the VAE paper and pytorch/examples) and `mean` averages over pixels. Both
 * then average over the batch. Mixing them up silently changes the effective KL weight, which was
 * one of the main failures in the course reports (a KL weight of ~2.5e-4 only makes sense with
 * `mean`).
 */
import { tf } from '../core/tfjs-backend';

/** How a per-pixel loss is reduced over the pixels of one image. */
export type PixelReduction = 'sum' | 'mean';

/** Probabilities are clipped away from 0 and 1 before the log, like PyTorch's BCE clamps logs at -100. */
export const BCE_EPSILON = 1e-7;

function perImage(x: tf.Tensor, reduction: PixelReduction): tf.Tensor1D {
  const flat = tf.reshape(x, [x.shape[0], -1]);
  return (reduction === 'sum' ? tf.sum(flat, 1) : tf.mean(flat, 1)) as tf.Tensor1D;
}

/**
 * Binary cross-entropy between targets in [0, 1] and predicted probabilities, reduced over the
 * pixels of each image by `reduction`, then averaged over the batch.
 */
export function binaryCrossEntropy(target: tf.Tensor, predicted: tf.Tensor, reduction: PixelReduction): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(predicted, BCE_EPSILON, 1 - BCE_EPSILON);
    const bce = tf.neg(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p)))));
    return tf.mean(perImage(bce, reduction));
  });
}

/** Squared error reduced over the pixels of each image by `reduction`, averaged over the batch. */
export function meanSquaredError(target: tf.Tensor, predicted: tf.Tensor, reduction: PixelReduction): tf.Scalar {
  return tf.tidy(() => tf.mean(perImage(tf.squaredDifference(target, predicted), reduction)) as tf.Scalar);
}

/**
 * KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions, averaged over the batch:
 * -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).
 */
export function gaussianKl(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() =>
    tf.mean(tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logvar), tf.square(mu)), tf.exp(logvar)), 1))),
  );
}

/** Softmax cross-entropy of logits against class indices, averaged over the batch. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1])), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/** Fraction of rows whose arg-max equals the label. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32')));
}

/** Reconstruction loss chosen by name, as configs spell it. */
export type ReconstructionLoss = 'bce' | 'mse';

/** Reconstruction term by name. BCE needs targets in [0, 1]. */
export function reconstructionLoss(
  kind: ReconstructionLoss,
  target: tf.Tensor,
  predicted: tf.Tensor,
  reduction: PixelReduction,
): tf.Scalar {
  return kind === 'bce' ? binaryCrossEntropy(target, predicted, reduction) : meanSquaredError(target, predicted, reduction);
}

// ---- Losses of the zoo families (sparse-ae, beta-vae, gumbel-vae, joint-vae, dcgan, cyclegan) ----

/**
 * Per-dimension KL(N(mu, exp(logvar)) || N(0, 1)) averaged over the batch: [latentSize]. Summing
 * it gives {@link gaussianKl}; free bits clamp each entry from below (Kingma et al. 2016).
 */
export function gaussianKlPerDimension(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.mul(-0.5, tf.sub(tf.sub(tf.add(1, logvar), tf.square(mu)), tf.exp(logvar))), 0) as tf.Tensor1D);
}

/**
 * KL(q || uniform) of categorical posteriors given as logits [B, N, K] (N variables of K classes):
 * sum_k q_k (log q_k + log K), summed over the N variables, averaged over the batch.
 */
export function categoricalKlToUniform(logits: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const logQ = tf.logSoftmax(logits);
    const klPerVariable = tf.sum(tf.mul(tf.exp(logQ), tf.add(logQ, Math.log(logits.shape[2]))), 2);
    return tf.mean(tf.sum(klPerVariable, 1)) as tf.Scalar;
  });
}

/**
 * KL(Bernoulli(rho) || Bernoulli(rhoHat)) summed over code units: the sparsity penalty of Ng's
 * sparse-autoencoder notes. `rhoHat` (the batch-mean activation of each unit) must lie in (0, 1),
 * which is why it is taken of a bounded (sigmoid) code; it is clipped by {@link BCE_EPSILON}.
 */
export function bernoulliKl(rho: number, rhoHat: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const q = tf.clipByValue(rhoHat, BCE_EPSILON, 1 - BCE_EPSILON);
    const a = tf.mul(rho, tf.log(tf.div(rho, q)));
    const b = tf.mul(1 - rho, tf.log(tf.div(1 - rho, tf.sub(1, q))));
    return tf.sum(tf.add(a, b)) as tf.Scalar;
  });
}

/**
 * Binary cross-entropy of a discriminator's logits against a constant label (1 = real, 0 = fake),
 * averaged over all entries. Computed as softplus(-l) or softplus(l), which is the stable form of
 * BCE(sigmoid(l)): PyTorch's BCEWithLogitsLoss, equivalent to the DCGAN tutorial's Sigmoid + BCELoss.
 */
export function logitBinaryCrossEntropy(logits: tf.Tensor, label: 0 | 1): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.softplus(label === 1 ? tf.neg(logits) : logits)) as tf.Scalar);
}

/** Least-squares GAN loss (Mao et al. 2017, CycleGAN's choice): mean (prediction - target)^2. */
export function leastSquaresGanLoss(prediction: tf.Tensor, target: 0 | 1): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(prediction, target))) as tf.Scalar);
}

/** Mean absolute error over every entry (CycleGAN's cycle-consistency and identity L1 terms). */
export function meanAbsoluteError(target: tf.Tensor, predicted: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(target, predicted))) as tf.Scalar);
}
