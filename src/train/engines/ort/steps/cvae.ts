import type { StepBuilder } from './builder';
import { vaeStep } from './vae';

/**
 * The ort training step of `cvae` (src/models/cvae.ts): vae's. The shared autoencoder step feeds
 * the one-hot label to the encoder and the decoder because the model is `conditional`.
 */
export const cvaeStep: StepBuilder = vaeStep;
