/**
 * cvae (src/models/cvae.ts): vae's step; the shared autoencoder step feeds the one-hot label to
 * the encoder and the decoder because the model is `conditional`.
 */
import type { StepBuilder } from './builder';
import { vaeStep } from './vae';

/** The ort training step of `cvae`. */
export const cvaeStep: StepBuilder = vaeStep;
