import { autoencoderStep } from './autoencoder';
import type { StepBuilder } from './builder';

/** The ort training step of `vae` (src/models/vae.ts): the shared autoencoder step (./autoencoder.ts), variational. */
export const vaeStep: StepBuilder = autoencoderStep({ variational: true });
