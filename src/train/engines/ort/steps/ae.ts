/** ae (src/models/ae.ts): the shared autoencoder step (./autoencoder.ts) as it is. */
import { autoencoderStep } from './autoencoder';
import type { StepBuilder } from './builder';

/** The ort training step of `ae`. */
export const aeStep: StepBuilder = autoencoderStep({ variational: false });
