import { autoencoderStep } from './autoencoder';
import type { StepBuilder } from './builder';

/** The ort training step of `ae` (src/models/ae.ts): the shared autoencoder step (./autoencoder.ts) as it is. */
export const aeStep: StepBuilder = autoencoderStep({ variational: false });
